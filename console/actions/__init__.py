"""Actions on orders: edit requests, card-key reissue, refund and cancel.

``service`` holds the rules (used by the API, the pages and the customer widget);
``views`` the ``actions`` blueprint (the supervisor and queue pages).
"""
