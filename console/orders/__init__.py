"""Order-story logic for the order detail screen: plain-words status, timeline, proof checks.

The pure modules (explain, timeline, proof_check) import nothing from Flask; the web
layer is ``views`` (the ``orders`` blueprint: the detail page) and ``context`` (what the
page and ``console/api`` read from a request).
"""
