"""Order-story logic for the order detail screen: plain-words status, timeline, proof checks."""
