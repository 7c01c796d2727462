"""Qwen2.5-VL's language model as transformers.js's decoder_model_merged session.

Reuses the HF text model's weights (each layer's norms, q/k/v/o projections and MLP, the final
norm, the rotary inv_freq, lm_head) but writes attention, the KV cache and the mask as plain
tensor ops: HF's Cache classes and mask helpers change between transformers releases (4.5x's
DynamicCache.from_legacy_cache is gone in 5.x) and their shape checks get baked by the tracer.
The math is HF's eager path: mRoPE (position_ids [3, batch, seq] split by mrope_section),
grouped KV heads repeated per query head, softmax in float32, causal plus padding mask.
"""
from __future__ import annotations

import torch
from torch import nn

# Finite in float16 too, so masked scores never turn into NaN rows after conversion.
MASKED = -65504.0


def mrope_section(text_config) -> list[int]:
    for key in ("rope_parameters", "rope_scaling"):
        params = getattr(text_config, key, None)
        if isinstance(params, dict) and params.get("mrope_section"):
            return [int(v) for v in params["mrope_section"]]
    raise SystemExit("the text config has no mrope_section (rope_parameters / rope_scaling): not a Qwen2.5-VL checkpoint?")


class MergedDecoder(nn.Module):
    def __init__(self, text_model: nn.Module, lm_head: nn.Module, text_config):
        super().__init__()
        self.text_model = text_model
        self.lm_head = lm_head
        self.layers_count = int(text_config.num_hidden_layers)
        self.heads = int(text_config.num_attention_heads)
        self.kv_heads = int(text_config.num_key_value_heads)
        self.head_dim = int(getattr(text_config, "head_dim", None) or text_config.hidden_size // self.heads)
        self.section = mrope_section(text_config)
        if sum(self.section) * 2 != self.head_dim:
            raise SystemExit(f"mrope_section {self.section} does not sum to head_dim/2 = {self.head_dim // 2}")
        rotary = text_model.rotary_emb
        self.register_buffer("inv_freq", rotary.inv_freq.detach().float().clone(), persistent=False)
        self.rope_scale = float(getattr(rotary, "attention_scaling", 1.0))

    def _rotary(self, position_ids: torch.Tensor):
        freqs = position_ids.float()[..., None] * self.inv_freq  # [3, batch, seq, head_dim/2]
        chunks = freqs.split(self.section, dim=-1)
        freqs = torch.cat([chunk[i % 3] for i, chunk in enumerate(chunks)], dim=-1)
        emb = torch.cat([freqs, freqs], dim=-1)[:, None]  # [batch, 1, seq, head_dim]
        return emb.cos() * self.rope_scale, emb.sin() * self.rope_scale

    @staticmethod
    def _rope(x, cos, sin):
        half = x.shape[-1] // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return (x * cos.to(x.dtype)) + (rotated * sin.to(x.dtype))

    def _attention(self, attn, hidden, cos, sin, allowed, past_key, past_value):
        batch, length = hidden.shape[0], hidden.shape[1]
        q = attn.q_proj(hidden).reshape(batch, length, self.heads, self.head_dim).transpose(1, 2)
        k = attn.k_proj(hidden).reshape(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        v = attn.v_proj(hidden).reshape(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = self._rope(q, cos, sin), self._rope(k, cos, sin)
        key = torch.cat([past_key.to(k.dtype), k], dim=2)
        value = torch.cat([past_value.to(v.dtype), v], dim=2)
        groups = self.heads // self.kv_heads
        total = key.shape[2]
        key_rep = key[:, :, None].expand(batch, self.kv_heads, groups, total, self.head_dim).reshape(batch, self.heads, total, self.head_dim)
        value_rep = value[:, :, None].expand(batch, self.kv_heads, groups, total, self.head_dim).reshape(batch, self.heads, total, self.head_dim)
        scores = torch.matmul(q, key_rep.transpose(2, 3)) * (self.head_dim ** -0.5)
        scores = scores.masked_fill(~allowed, MASKED)
        weights = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        out = torch.matmul(weights, value_rep).transpose(1, 2).reshape(batch, length, self.heads * self.head_dim)
        return attn.o_proj(out), key, value

    def forward(self, inputs_embeds, attention_mask, position_ids, num_logits_to_keep, *past):
        length = inputs_embeds.shape[1]
        total = attention_mask.shape[1]
        query_pos = torch.arange(length, device=inputs_embeds.device) + (total - length)
        key_pos = torch.arange(total, device=inputs_embeds.device)
        allowed = (key_pos[None, :] <= query_pos[:, None])[None, None] & attention_mask[:, None, None, :].bool()
        cos, sin = self._rotary(position_ids)
        hidden = inputs_embeds
        present = []
        for i, layer in enumerate(self.text_model.layers):
            out, key, value = self._attention(layer.self_attn, layer.input_layernorm(hidden), cos, sin, allowed, past[2 * i], past[2 * i + 1])
            hidden = hidden + out
            hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
            present += [key, value]
        hidden = self.text_model.norm(hidden)
        # transformers.js asks for 1 row at generation and 0 for "all rows".
        keep = torch.where(num_logits_to_keep > 0, num_logits_to_keep, torch.full_like(num_logits_to_keep, length))
        hidden = hidden[:, length - keep :, :]
        logits = self.lm_head(hidden).float()
        return (logits, *present)
