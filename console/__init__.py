"""The organizer console: static files in console/web/ (no build step),
served by server/io/http/pages.py at /console/ and /static/console/."""
