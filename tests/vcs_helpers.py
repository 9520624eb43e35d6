"""Send a signed GitHub delivery to the VCS webhook, as GitHub would: for any test (API or browser)."""

import hashlib
import hmac
import json
import urllib.request
import uuid
from urllib.error import HTTPError


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_github_post(client_or_url, repository, event: str, payload: dict, delivery_id: str | None = None):
    """POST `payload` as GitHub event `event` of `repository` (a Repository), signed with its secret.

    `client_or_url`: a Django/DRF test client (returns its response), or the base URL of a running server
    such as `live_server.url` (returns `(status, parsed JSON body)`)."""
    body = json.dumps(payload).encode()
    headers = {
        "X-Hub-Signature-256": github_signature(repository.secret, body),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    path = f"/api/v1/vcs/{repository.pk}/webhook/"
    if isinstance(client_or_url, str):
        request = urllib.request.Request(client_or_url.rstrip("/") + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")
    return client_or_url.generic("POST", path, body, content_type="application/json",
                                 headers={k: v for k, v in headers.items() if k != "Content-Type"})


def github_push(*commits: tuple[str, str], author: str = "dana", repository: str = "acme/payroll") -> dict:
    """A push payload as GitHub sends it (trimmed to what matters), with `(sha, message)` commits."""
    return {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": commits[-1][0] if commits else "0" * 40,
        "repository": {"full_name": repository, "html_url": f"https://github.com/{repository}"},
        "pusher": {"name": author},
        "commits": [
            {"id": sha, "message": message, "timestamp": "2026-12-01T10:00:00Z",
             "url": f"https://github.com/{repository}/commit/{sha}",
             "author": {"name": author.title(), "email": f"{author}@example.com", "username": author}}
            for sha, message in commits
        ],
    }


def github_pull_request(number: int, title: str, body: str = "", *, action: str = "closed", merged: bool = True,
                        author: str = "dana", repository: str = "acme/payroll") -> dict:
    """A pull_request payload as GitHub sends it (trimmed), closed and merged by default."""
    state = "closed" if action == "closed" else "open"
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number, "title": title, "body": body, "state": state, "merged": merged and state == "closed",
            "merged_at": "2026-12-01T10:00:00Z" if merged and state == "closed" else None,
            "html_url": f"https://github.com/{repository}/pull/{number}", "user": {"login": author},
        },
        "repository": {"full_name": repository},
    }
