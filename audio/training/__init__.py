"""Training the sample classifier (audio.tagging): render, synthesise, augment, train, export.

Nothing here runs in the app: `python -m audio.training.train` makes the weights file that the engine loads.
"""
