"""A tokenizer built offline: a byte-level BPE with Qwen's chat and vision tokens, standing in for a
checkpoint's tokenizer in the GPU check and the tests (token ids only pick embedding rows)."""

from __future__ import annotations

# Qwen-style chat template, reduced to what Flux2KleinPipeline renders: one user turn, then the
# assistant header with an empty think block (the pipeline passes enable_thinking=False).
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
# Qwen3.5's vision markers (its tokenizer's special tokens), after the others: ids 261-264.
VISION_TOKENS = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
# The same template, with Qwen-VL's image placeholder for every image part of a message (the critic's).
VISION_TEMPLATE = CHAT_TEMPLATE.replace(
    "{{ message['content'] }}",
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}{% else %}<|vision_start|><|image_pad|><|vision_end|>{% endif %}"
    "{% endfor %}{% endif %}")


def byte_tokenizer(chat_template: bool = False, vision: bool = False):
    """A byte-level BPE without merges (every text tokenizes, one token per byte, ids < 261; with
    `vision`, Qwen's vision markers too), wrapped as a transformers fast tokenizer: stands in for a
    checkpoint's tokenizer offline."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={ch: i for i, ch in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIAL_TOKENS + (VISION_TOKENS if vision else []))
    template = (VISION_TEMPLATE if vision else CHAT_TEMPLATE) if chat_template or vision else None
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<|endoftext|>", eos_token="<|im_end|>",
                                   model_max_length=4096 if not vision else 262144, chat_template=template)
