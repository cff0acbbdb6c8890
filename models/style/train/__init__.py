"""Making a style model (docs/style.md): nothing here runs in the app.

- ``captions`` / ``bank``: engine captions and caption banks (backbone embeddings carried to the GPU as a file).
- ``augment``: training prompts worded with the dictionaries (phrases in ``assets/style/training_phrases.yaml``).
- ``contrastive``: ``clip_loss``, ``train_style`` (text and image branches); ``train_cli`` is its command line.
- ``distill``: a new text path trained into an existing style space (``python -m models.style.train.distill``).
- ``colour_dictionary`` / ``hair_dictionary``: ``build_colour_lexicon`` / ``build_hair_lexicon`` from the word
  tables in ``assets/style/``, stored inside the style checkpoint; ``definition_texts``.
- ``dictionary_reading``: what the dictionaries alone read from a prompt (training prompts, diagnosis, tests).
- ``artist_probes``: prompts written by hand the way an artist types them (development probes).
"""
