from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header from settings to every response that lacks one.

    Everything Stemcrate serves comes from its own origin (vendored JS/CSS), so the policy is strict. DRF's
    browsable API renders an inline script, so its HTML pages under /api/ are left without the header;
    JSON responses need none.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response and not request.path.startswith("/api/"):
            response["Content-Security-Policy"] = self.policy
        return response
