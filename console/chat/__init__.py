"""Live chat: the customer widget, the agent inbox, and the Socket.IO protocol between them.

Blueprints: ``console.chat.views.bp`` (pages, ``/api/chat``, ``/api/metrics``) and
``console.chat.widget.bp`` (``/api/widget``).
"""
