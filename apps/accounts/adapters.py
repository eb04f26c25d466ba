from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Send people to the invitation they came from after sign-up / login, when there is one."""

    def get_login_redirect_url(self, request):
        pending = request.session.pop("pending_invitation_url", None)
        return pending or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        pending = request.session.pop("pending_invitation_url", None)
        return pending or super().get_signup_redirect_url(request)
