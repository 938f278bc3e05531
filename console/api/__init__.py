"""The JSON API (session cookie or bearer token); the blueprint is ``console.api.views.bp``."""
