"""Supervisors: the dashboard, response-time figures, SLA breaches, the live queue panel
and shop analytics; the blueprint is ``console.supervisor.views.bp``."""
