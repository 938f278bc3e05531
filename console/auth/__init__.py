"""Signing agents in and out; the blueprint is ``console.auth.views.bp``."""
