"""Every kind of notification the product sends. A capability adds its kinds here when it lands.

People can turn e-mail off per kind; the in-app notification is always kept.
"""

KINDS: dict[str, str] = {
    "credential.verified": "A credential of yours was verified",
    "credential.rejected": "A credential of yours was rejected",
    "credential.revoked": "A credential of yours was revoked",
    "credential.expiring": "A credential of yours expires soon",
    "credential.expired": "A credential of yours expired",
    "credential.flagged": "A credential was flagged for review (operations)",
    "credential.submitted": "A credential awaits review (operations)",
    "roster.invited": "A vendor invited you to its roster",
    "roster.joined": "An expert joined your roster",
    "roster.declined": "An expert declined your roster invitation",
    "roster.suspended": "You were suspended from a roster",
    "roster.reinstated": "You were reinstated on a roster",
    "roster.offboarded": "You were offboarded from a roster",
    "project.invited": "A lab invited your organisation to bid on a project",
    "project.bidding_closed": "Bidding closed on a project",
    "project.cancelled": "A project you bid on was cancelled",
    "guideline.published": "A project's guidelines have a new version",
    "question.asked": "A bidder asked a question on your project",
    "question.answered": "A lab answered a question",
    "bid.received": "Your project received a bid",
    "bid.rejected": "Your bid was rejected",
    "bid.awarded": "Your bid was awarded",
    "bid.lost": "Your bid was not awarded",
    "contract.created": "A contract awaits your signature",
    "contract.signed": "The other side signed a contract",
    "contract.activated": "A contract is active",
    "contract.status_changed": "A contract was paused, resumed, completed or terminated",
    "amendment.proposed": "A contract amendment awaits your signature",
    "amendment.effective": "A contract amendment took effect",
    "assignment.created": "You were assigned to a contract",
    "assignment.suspended": "An assignment was suspended: a gate no longer holds",
    "batch.submitted": "A work batch was delivered",
    "batch.reviewed": "Your work batch was reviewed",
    "appeal.opened": "A rejected batch was appealed (operations)",
    "appeal.decided": "An appeal was decided",
    "attempt.graded": "Your test attempt was graded",
    "qualification.granted": "You earned a qualification",
    "qualification.revoked": "A qualification of yours was revoked",
    "grading.assigned": "A free-text answer awaits grading",
    "calibration.invited": "Your experts are invited to a calibration round",
}


def label(kind: str) -> str:
    return KINDS.get(kind, kind)
