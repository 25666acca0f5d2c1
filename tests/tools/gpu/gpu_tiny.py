"""Tiny random-initialised models and offline tokenizers for the GPU-tier tests (code paths, not accuracy)."""

from __future__ import annotations

import json
import string

from loupe.tools.context import ToolContext
from loupe.tools.settings import Settings

SPECIALS = ["<|startoftext|>", "<|endoftext|>"]


def write_clip_tokenizer(folder) -> dict:
    """A CLIP BPE tokenizer with single-character tokens (no merges); returns its vocab."""
    chars = [c for c in string.ascii_lowercase + string.digits + ".,'!?-"]
    # the special tokens go last, as in CLIP's vocab (OWL treats a query starting with id 0 as padding)
    vocab = {t: i for i, t in enumerate(chars + [c + "</w>" for c in chars] + SPECIALS)}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return vocab


def clip_tokenizer(folder, max_length=16):
    from transformers import CLIPTokenizer

    vocab = write_clip_tokenizer(folder)
    tok = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token="<|endoftext|>",
                        model_max_length=max_length)
    return tok, vocab


def bert_tokenizer(folder, extra=()):
    """A WordPiece tokenizer over single letters and a few whole words."""
    from transformers import BertTokenizer

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", "yes", "no", "a", "dog", "cat", "red",
             "blue", "what", "color", "is", "the", "?", ".", *extra]
    words += [c for c in string.ascii_lowercase if c not in words] + ["##" + c for c in string.ascii_lowercase]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(words)) + "\n")
    return BertTokenizer(str(folder / "vocab.txt"))


def tiny_vision(**extra):
    return dict(hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=2, **extra)


def tiny_text(vocab_size, **extra):
    return dict(vocab_size=vocab_size, hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                num_attention_heads=2, **extra)


def context_with(**options) -> ToolContext:
    """A CPU tool context whose backend options are ``options`` (``owlv2__model=...`` -> ``owlv2.model``)."""
    return ToolContext(Settings(device="cpu", options={k.replace("__", "."): v for k, v in options.items()}))


def save_owlv2(folder):
    """A tiny OWLv2 (32 px input, 8 px patches: a 4x4 grid) with its processor, saved to ``folder``."""
    import torch
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor, Owlv2Processor

    tokenizer, vocab = clip_tokenizer(folder)
    config = Owlv2Config(
        text_config=tiny_text(len(vocab), max_position_embeddings=16, eos_token_id=vocab["<|endoftext|>"],
                              bos_token_id=vocab["<|startoftext|>"], pad_token_id=vocab["<|endoftext|>"]),
        vision_config=tiny_vision(image_size=32, patch_size=8), projection_dim=32)
    model = Owlv2ForObjectDetection(config).eval()
    # a zero box head leaves only OWLv2's grid bias: each box is its patch cell (1/4 of the padded square)
    torch.nn.init.zeros_(model.box_head.dense2.weight)
    torch.nn.init.zeros_(model.box_head.dense2.bias)
    model.save_pretrained(folder)
    processor = Owlv2Processor(Owlv2ImageProcessor(size={"height": 32, "width": 32}), tokenizer)
    processor.save_pretrained(folder)
    return folder


def save_clip(folder):
    """A tiny CLIP (32 px, 8 px patches) and its processor, saved to ``folder``."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    tokenizer, vocab = clip_tokenizer(folder, max_length=32)
    config = CLIPConfig(
        text_config=tiny_text(len(vocab), max_position_embeddings=32, eos_token_id=vocab["<|endoftext|>"],
                              bos_token_id=vocab["<|startoftext|>"], pad_token_id=vocab["<|endoftext|>"]),
        vision_config=tiny_vision(image_size=32, patch_size=8), projection_dim=16)
    CLIPModel(config).eval().save_pretrained(folder)
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor, tokenizer).save_pretrained(folder)
    return folder


def save_blip(folder, kind: str):
    """A tiny BLIP for ``kind`` = ``"vqa"`` or ``"caption"`` with a BERT tokenizer, saved to ``folder``."""
    from transformers import (BlipConfig, BlipForConditionalGeneration, BlipForQuestionAnswering,
                              BlipImageProcessor, BlipProcessor)

    tokenizer = bert_tokenizer(folder)
    tokenizer.add_special_tokens({"bos_token": "[DEC]"})
    vocab = len(tokenizer)
    text = tiny_text(vocab, max_position_embeddings=64, bos_token_id=tokenizer.convert_tokens_to_ids("[DEC]"),
                     sep_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id,
                     eos_token_id=tokenizer.sep_token_id)
    config = BlipConfig(text_config=text, vision_config=tiny_vision(image_size=32, patch_size=8),
                        projection_dim=16)
    model_class = BlipForQuestionAnswering if kind == "vqa" else BlipForConditionalGeneration
    model_class(config).eval().save_pretrained(folder)
    BlipProcessor(BlipImageProcessor(size={"height": 32, "width": 32}), tokenizer).save_pretrained(folder)
    return folder


def save_mask2former(folder, labels=("person", "dog", "sky"), every_query: str | None = None):
    """A tiny Mask2Former (Swin backbone, 64 px) with its image processor, saved to ``folder``.
    ``every_query``: a label every query gives with certainty (the class head decided; masks stay random)."""
    import torch
    from transformers import Mask2FormerConfig, Mask2FormerForUniversalSegmentation, Mask2FormerImageProcessor
    from transformers import SwinConfig

    backbone = SwinConfig(image_size=64, patch_size=4, embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1],
                          window_size=2, out_features=["stage1", "stage2", "stage3", "stage4"])
    config = Mask2FormerConfig(backbone_config=backbone, hidden_dim=32, mask_feature_size=32, feature_size=32,
                               encoder_layers=1, decoder_layers=2, num_queries=8, encoder_feedforward_dim=32,
                               dim_feedforward=32, num_attention_heads=2,
                               id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    model = Mask2FormerForUniversalSegmentation(config).eval()
    with torch.no_grad():
        model.class_predictor.bias[-1] = -100.0  # random queries would mostly say "no object"
        if every_query is not None:
            model.class_predictor.weight.zero_()
            model.class_predictor.bias.fill_(-100.0)
            model.class_predictor.bias[labels.index(every_query)] = 100.0
    model.save_pretrained(folder)
    Mask2FormerImageProcessor(size={"height": 64, "width": 64}, num_labels=len(labels)).save_pretrained(folder)
    return folder


def save_grounding_dino(folder):
    """A tiny Grounding DINO (Swin backbone, tiny BERT text encoder) with its processor, saved to ``folder``."""
    from transformers import (BertConfig, GroundingDinoConfig, GroundingDinoForObjectDetection,
                              GroundingDinoImageProcessor, GroundingDinoProcessor, SwinConfig)

    tokenizer = bert_tokenizer(folder)
    backbone = SwinConfig(image_size=64, patch_size=4, embed_dim=16, depths=[1, 1, 1], num_heads=[1, 1, 1],
                          window_size=2, out_features=["stage1", "stage2", "stage3"])
    text = BertConfig(**tiny_text(len(tokenizer), max_position_embeddings=64))
    config = GroundingDinoConfig(backbone_config=backbone, text_config=text, d_model=32, num_queries=10,
                                 encoder_layers=1, decoder_layers=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                                 encoder_attention_heads=2, decoder_attention_heads=2, num_feature_levels=4,
                                 encoder_n_points=2, decoder_n_points=2, max_text_len=32)
    GroundingDinoForObjectDetection(config).eval().save_pretrained(folder)
    GroundingDinoProcessor(GroundingDinoImageProcessor(size={"shortest_edge": 64, "longest_edge": 96}),
                           tokenizer).save_pretrained(folder)
    return folder


def save_sd_inpaint(folder):
    """A tiny Stable Diffusion inpainting pipeline (9-channel UNet, tiny VAE, tiny CLIP text encoder)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    (folder / "tok").mkdir(parents=True, exist_ok=True)
    tokenizer, vocab = clip_tokenizer(folder / "tok", max_length=16)
    text = CLIPTextModel(CLIPTextConfig(**tiny_text(len(vocab), max_position_embeddings=16,
                                                    eos_token_id=vocab["<|endoftext|>"])))
    unet = UNet2DConditionModel(sample_size=8, in_channels=9, out_channels=4, layers_per_block=1,
                                block_out_channels=(8, 16), down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=2, norm_num_groups=4)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8),
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        norm_num_groups=4, sample_size=32)
    pipe = StableDiffusionInpaintPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                          scheduler=DDIMScheduler(steps_offset=1), safety_checker=None, feature_extractor=None,
                                          requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return folder


def save_sam(path):
    """A tiny segment-anything ``Sam`` (ViT with 64 px input, 1 block) saved as a state-dict ``.pth``.

    Returns the builder the test registers under a registry name (the real ones are ViT-B/L/H).
    """
    from functools import partial

    import torch
    from segment_anything.modeling import (ImageEncoderViT, MaskDecoder, PromptEncoder, Sam,
                                           TwoWayTransformer)

    def build(checkpoint=None):
        size, patch, dim = 64, 16, 32
        sam = Sam(image_encoder=ImageEncoderViT(img_size=size, patch_size=patch, embed_dim=32, depth=1,
                                                num_heads=2, out_chans=dim, global_attn_indexes=(),
                                                window_size=0, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6)),
                  prompt_encoder=PromptEncoder(embed_dim=dim, image_embedding_size=(size // patch, size // patch),
                                               input_image_size=(size, size), mask_in_chans=4),
                  mask_decoder=MaskDecoder(num_multimask_outputs=3, transformer=TwoWayTransformer(
                      depth=1, embedding_dim=dim, mlp_dim=32, num_heads=2), transformer_dim=dim,
                      iou_head_depth=1, iou_head_hidden_dim=16))
        if checkpoint is not None:
            sam.load_state_dict(torch.load(checkpoint, map_location="cpu"))
        return sam.eval()

    torch.manual_seed(0)
    torch.save(build().state_dict(), path)
    return build
