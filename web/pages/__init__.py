"""The HTML pages: coordinators' screens, sign-in, and the signed links for interns,
delegates and partners. Each module is one router; `web.app` includes them all."""
