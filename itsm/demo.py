"""Demo data of the portal: knowledge-base articles and FAQ entries (the app's demo step, `ItsmConfig.demo_seed`)."""

from tracker.demo import DemoContext
from tracker.models import Service

from .models import KnowledgeArticle

ARTICLES = [
    (
        "How do I reset my password?",
        None,
        "1. Open the sign-in page and choose **Forgot password**.\n2. Enter your work email.\n"
        "3. Follow the link in the mail within 30 minutes.\n\nStill locked out? Raise an incident: the desk "
        "unlocks accounts within the hour.",
    ),
    (
        "Payslip shows zero or is blank",
        "Payroll",
        "Payslips are published on the 25th at 06:00. Before then the page shows an empty slip.\n\n"
        "If it is still blank after the 25th, **raise an incident** with the month in the title.",
    ),
    (
        "VPN disconnects every few minutes",
        "VPN",
        "Update the VPN client to the latest version (Software Centre → *VPN*), then restart.\n\n"
        "On hotel or train Wi-Fi, switch the client to *TCP mode* in Settings.",
    ),
    (
        "Set up work email on a phone",
        "Email",
        "Install the mail app from the company portal, sign in with your work address and approve the "
        "prompt on your registered device.",
    ),
    (
        "Order a laptop, monitor or headset",
        None,
        "Use **Request something** in the portal and pick *Hardware*. Standard items ship in 3 working days.",
    ),
    (
        "The web shop checkout shows the wrong currency",
        "Web shop",
        "Clear the site's cookies and choose the country again at the top; prices switch with it.",
    ),
]


def seed(ctx: DemoContext) -> None:
    """The published articles the portal's search and FAQ show; idempotent (by title)."""
    services = {s.name: s for s in Service.objects.all()}
    for title, service, body in ARTICLES:
        KnowledgeArticle.objects.update_or_create(
            title=title,
            defaults={"body": body, "service": services.get(service), "faq": True, "published": True},
        )
