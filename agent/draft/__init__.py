"""Drafting: choosing and composing each section's sentences, by selection (faithful) or through the model."""
