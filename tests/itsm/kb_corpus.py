"""A knowledge base of believable IT articles for the search-quality test: twenty answers people look for, and
around two hundred others on the same topics (VPN, email, printers, payroll, passwords, laptops, Wi-Fi, Teams, SAP,
the web shop, MFA, disk space, ...) written from templates with varied wording, so the words of a query also
appear in many articles that do not answer it."""

# The answers the test's queries look for: (title, body in Markdown).
ANSWERS = [
    ("VPN disconnects every few minutes",
     "If the VPN drops the connection again and again, update the client (Software Centre → *VPN*) and restart.\n\n"
     "On hotel or train Wi-Fi, switch the client to **TCP mode** in Settings."),
    ("Reset a forgotten password",
     "Forgot it? Open the sign-in page, choose **Forgot password** and enter your work email. The link in the "
     "mail is valid for 30 minutes."),
    ("Clear a paper jam on the floor printers",
     "Open the front panel, pull the green lever and remove the jammed paper slowly. Close the tray; the printer "
     "resumes the job."),
    ("Payslip shows zero or is blank",
     "Payslips are published on the 25th at 06:00. Before then the page shows an empty slip with zero amounts."),
    ("Emails are not arriving in Outlook",
     "Check the *Junk* folder and the rules under File → Rules. If messages from outside still do not arrive, "
     "the sender may be blocked by the mail filter: raise an incident with one sender's address."),
    ("Laptop battery runs down quickly",
     "Lower the screen brightness, close browser tabs you do not need and choose the *Battery saver* power plan. "
     "A battery older than three years can be replaced: order it in the catalogue."),
    ("Wi-Fi drops in the meeting rooms",
     "The meeting rooms use the *Corp-Meet* network. Forget *Corp-Guest* on your device so it does not switch "
     "between the two, and the wireless connection stays up."),
    ("Camera not detected in Teams calls",
     "In Teams go to Settings → Devices and pick the camera. Close other apps using the webcam; on a docking "
     "station, plug the camera into the laptop itself."),
    ("SAP account locked after failed logons",
     "After five wrong passwords SAP locks the user. The lock lifts at midnight, or the desk unlocks it: raise "
     "an incident naming the SAP system (PRD, QAS)."),
    ("The web shop checkout shows the wrong currency",
     "Clear the site's cookies and choose the country again at the top of the page; prices switch with it."),
    ("Move MFA to a new phone",
     "Before you wipe the old phone, open the authenticator app's settings and transfer the accounts. Lost the old "
     "phone? The desk resets your multi-factor sign-in after checking your identity."),
    ("Disk almost full: free up space on C:",
     "Empty the recycle bin, run *Disk Clean-up* and move large files to OneDrive. Downloads often hold gigabytes "
     "of old installers."),
    ("Order a laptop, monitor or headset",
     "Use **Request something** in the portal and pick *Hardware*. Standard items ship in 3 working days."),
    ("Get access to a shared mailbox",
     "Ask for it in the catalogue (*Email → Shared mailbox access*); the mailbox owner approves. It shows up in "
     "Outlook within an hour."),
    ("Second screen flickers on the docking station",
     "Use the DisplayPort cable that came with the dock, update the dock's firmware from Software Centre and set "
     "the refresh rate to 60 Hz."),
    ("Why was my expense claim rejected?",
     "Claims are returned when a receipt is missing or the cost centre is wrong. Open the claim, read the "
     "approver's comment, fix it and submit again."),
    ("VPN error: certificate has expired",
     "The client's certificate is renewed automatically when you are in the office once a year. Connect to the "
     "office network for ten minutes, then start the VPN again."),
    ("Printing from a Mac",
     "Add the *FollowMe* queue under System Settings → Printers, sign in with your work account, then collect "
     "the print at any floor printer with your badge."),
    ("No sound in Teams meetings",
     "Check the speaker chosen under Teams → Settings → Devices and the volume mixer. Bluetooth headsets must be "
     "paired before you join the meeting."),
    ("Your password expires soon: change it before it does",
     "Fourteen days before it expires you are reminded at sign-in. Press Ctrl+Alt+Del → *Change a password* "
     "while connected to the office or the VPN."),
]

# (query as a user types it, the title it should find in the top three)
QUERIES = [
    ("vpn keeps disconnecting", "VPN disconnects every few minutes"),
    ("forgot my password", "Reset a forgotten password"),
    ("printer says paper jam", "Clear a paper jam on the floor printers"),
    ("payslip is blank", "Payslip shows zero or is blank"),
    ("outlook not receiving emails", "Emails are not arriving in Outlook"),
    ("laptop battery drains fast", "Laptop battery runs down quickly"),
    ("wifi keeps dropping in meeting room", "Wi-Fi drops in the meeting rooms"),
    ("teams camera not working", "Camera not detected in Teams calls"),
    ("locked out of sap", "SAP account locked after failed logons"),
    ("webshop checkout wrong currency", "The web shop checkout shows the wrong currency"),
    ("got a new phone, authenticator app", "Move MFA to a new phone"),
    ("c drive full", "Disk almost full: free up space on C:"),
    ("how do i get a new monitor", "Order a laptop, monitor or headset"),
    ("need access to shared mailbox", "Get access to a shared mailbox"),
    ("screen flickering with docking station", "Second screen flickers on the docking station"),
    ("expense report rejected", "Why was my expense claim rejected?"),
    ("vpn certificate expired", "VPN error: certificate has expired"),
    ("can't print from my macbook", "Printing from a Mac"),
    ("can't hear anything in teams meeting", "No sound in Teams meetings"),
    ("password expiry warning", "Your password expires soon: change it before it does"),
]

# Topics: (name as in titles, words people use for it, where it lives)
TOPICS = [
    ("VPN", "remote access client", "Software Centre → VPN"),
    ("Email", "Outlook mailbox", "the mail app"),
    ("Printers", "floor printer FollowMe queue", "the printer's panel"),
    ("Payroll", "payslip salary", "the payroll portal"),
    ("Passwords", "sign-in account", "the sign-in page"),
    ("Laptops", "notebook device", "Software Centre"),
    ("Wi-Fi", "wireless network Corp-Guest", "the network settings"),
    ("Teams", "chat calls meetings", "the Teams app"),
    ("SAP", "ERP transactions PRD", "the SAP GUI"),
    ("Web shop", "online store orders checkout", "the shop's back office"),
    ("MFA", "authenticator multi-factor", "the security info page"),
    ("Disk space", "storage drive files", "Explorer"),
    ("Expenses", "claims receipts", "the expenses app"),
    ("SharePoint", "team site documents", "the site settings"),
    ("Monitors", "display screen dock", "the display settings"),
    ("Phones", "mobile handset", "the company portal app"),
]

# Article templates per topic: (title, body); {t} the topic, {w} its words, {p} where it lives.
TEMPLATES = [
    ("{t}: what to do when it is slow",
     "If {t} ({w}) is slow, restart it and check your connection. Still slow after ten minutes? Raise an incident "
     "with the time it started."),
    ("Request access to {t}",
     "Access to {t} is ordered in the catalogue. Your manager approves; access is granted within a working day."),
    ("{t} error after the latest update",
     "Some people see an error in {t} after the monthly update. Open {p}, install the pending fix and restart."),
    ("Set up {t} on a new laptop",
     "On a new laptop, open {p} and install {t}. Sign in with your work account; your {w} settings follow you."),
    ("{t} known issues this month",
     "The desk tracks these {t} issues: intermittent sign-in prompts and a delay in {w}. Fixes are planned."),
    ("Who supports {t}?",
     "The service desk takes every {t} question first; the {t} team handles what it cannot solve. Working hours "
     "are 08:00-18:00."),
    ("{t} maintenance window",
     "{t} is maintained on the first Sunday of the month, 06:00-09:00. Expect short outages of the {w}."),
    ("Tips for working with {t}",
     "Keyboard shortcuts, favourites and search make {t} faster. See {p} for the options people use most."),
    ("{t} not available from home",
     "Some {t} features need the office network or the VPN. Connect first, then open {t} again."),
    ("Report a problem with {t}",
     "Describe what you did, what you expected and what happened; add a screenshot. Name {t} as the service."),
    ("{t} training and guides",
     "Short videos and guides on {t} ({w}) are on the intranet's learning page."),
    ("Change your {t} settings",
     "Most {t} settings are under {p}. Changes take effect after you sign out and in again."),
    ("{t}: cannot sign in",
     "Check caps lock and that your account is not locked. If {t} still refuses your sign-in, reset your password "
     "and try again in five minutes."),
]


def corpus() -> list[tuple[str, str]]:
    """Every article of the test's knowledge base: the answers first, then the generated ones (unique titles)."""
    articles = list(ANSWERS)
    seen = {title for title, _ in articles}
    for name, words, place in TOPICS:
        for title, body in TEMPLATES:
            title = title.format(t=name, w=words, p=place)
            if title not in seen:
                seen.add(title)
                articles.append((title, body.format(t=name, w=words, p=place)))
    return articles
