"""Server-rendered screens for agents and supervisors; the blueprint is ``console.pages.views.bp``."""
