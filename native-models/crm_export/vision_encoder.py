"""Qwen2.5-VL's vision tower as a traceable module whose image grid comes from image_grid_thw.

HF's forward builds rotary positions, window indices and cu_seqlens with Python loops over
grid_thw.tolist() and splits attention by Python lengths, so a TorchScript trace freezes one
grid. This module reuses the HF tower's own weights (patch_embed, each block's norms, qkv,
proj and MLP, the merger, the rotary inv_freq) and derives everything grid-dependent with
integer tensor arithmetic on the patch index, so the exported graph accepts any grid.

Token order: the processor emits patches frame-major, then in 2x2 merge units row by row, the
four patches of a unit consecutive. HF permutes the units into window order, runs every block,
merges and permutes back. Attention is permutation-equivariant and everything else acts per
token (or per merge unit, which the window order keeps intact), so the same result comes from
staying in processor order and restricting attention instead:
  - window blocks: each window's units are gathered into a fixed-size padded window
    (window_size/patch/merge units per side), padded keys masked, results scattered back;
  - full-attention blocks: attention over the whole frame (a frame mask, so videos with t > 1
    keep HF's per-frame segments).
One image (or video) per call: image_grid_thw is read as a single [t, h, w] row, and a
reshape to [3] makes the graph fail loudly when given more rows.
"""
from __future__ import annotations

import torch
from torch import nn


class DynamicGridVisionEncoder(nn.Module):
    def __init__(self, visual: nn.Module):
        super().__init__()
        config = visual.config
        self.visual = visual
        self.merge = int(config.spatial_merge_size)
        self.unit = self.merge * self.merge
        self.window_units = int(config.window_size) // self.merge // int(config.patch_size)
        self.window_tokens = self.window_units * self.window_units * self.unit
        self.full_attention_blocks = set(int(i) for i in config.fullatt_block_indexes)
        self.num_heads = int(config.num_heads)
        self.head_dim = int(config.hidden_size) // self.num_heads
        embed = visual.patch_embed.proj
        # The Conv3d's kernel equals its stride and covers a whole flattened patch row: a matmul.
        self.register_buffer("patch_weight", embed.weight.detach().reshape(embed.weight.shape[0], -1).t().contiguous(), persistent=False)
        self.register_buffer("inv_freq", visual.rotary_pos_emb.inv_freq.detach().float().clone(), persistent=False)

    # ------------------------------------------------------------------ grid arithmetic
    def _grid(self, image_grid_thw: torch.Tensor):
        grid = image_grid_thw.reshape(3)
        return grid[0], grid[1], grid[2]

    def _rotary(self, hpos: torch.Tensor, wpos: torch.Tensor):
        freq_h = hpos.float()[:, None] * self.inv_freq[None, :]
        freq_w = wpos.float()[:, None] * self.inv_freq[None, :]
        freqs = torch.cat([freq_h, freq_w], dim=-1)
        emb = torch.cat([freqs, freqs], dim=-1)
        return emb.cos(), emb.sin()

    def _layout(self, num_patches, h: torch.Tensor, w: torch.Tensor, t: torch.Tensor):
        m, vw = self.merge, self.window_units
        llm_h, llm_w = h // m, w // m
        frame_size = h * w
        patch = torch.arange(num_patches, device=h.device)
        frame = patch // frame_size
        within = patch % frame_size
        unit, sub = within // self.unit, within % self.unit
        row, col = unit // llm_w, unit % llm_w
        hpos = row * m + sub // m
        wpos = col * m + sub % m

        windows_h = (llm_h + vw - 1) // vw
        windows_w = (llm_w + vw - 1) // vw
        windows_per_frame = windows_h * windows_w
        # Each patch's slot in the padded window layout ...
        window = (frame * windows_h + row // vw) * windows_w + col // vw
        slot_of_patch = window * self.window_tokens + ((row % vw) * vw + col % vw) * self.unit + sub
        # ... and each slot's patch (or padding).
        slots = torch.arange(t * windows_per_frame * self.window_tokens, device=h.device)
        slot_window, slot_pos = slots // self.window_tokens, slots % self.window_tokens
        slot_frame = slot_window // windows_per_frame
        slot_rem = slot_window % windows_per_frame
        slot_unit, slot_sub = slot_pos // self.unit, slot_pos % self.unit
        slot_row = (slot_rem // windows_w) * vw + slot_unit // vw
        slot_col = (slot_rem % windows_w) * vw + slot_unit % vw
        slot_valid = (slot_row < llm_h) & (slot_col < llm_w)
        patch_of_slot = torch.where(slot_valid, slot_frame * frame_size + (slot_row * llm_w + slot_col) * self.unit + slot_sub, torch.zeros_like(slots))
        return frame, hpos, wpos, slot_of_patch, patch_of_slot, slot_valid

    # ------------------------------------------------------------------ attention
    def _rope(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return (x.float() * cos + rotated.float() * sin).to(x.dtype)

    def _attend(self, q, k, v, key_allowed):
        # q, k, v: [groups, heads, length, head_dim]; key_allowed broadcasts to [groups, heads, length, length].
        scores = torch.matmul(q, k.transpose(-1, -2)) * (self.head_dim ** -0.5)
        scores = scores.masked_fill(~key_allowed, -65504.0)
        weights = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        return torch.matmul(weights, v)

    def _qkv(self, attn, x):
        qkv = attn.qkv(x).reshape(x.shape[0], 3, self.num_heads, self.head_dim)
        return qkv[:, 0], qkv[:, 1], qkv[:, 2]

    def _window_attention(self, attn, x, cos, sin, slot_of_patch, patch_of_slot, slot_valid):
        q, k, v = self._qkv(attn, x)
        q, k = self._rope(q, cos, sin), self._rope(k, cos, sin)
        shape = (-1, self.window_tokens, self.num_heads, self.head_dim)
        qw, kw, vw = (t[patch_of_slot].reshape(shape).transpose(1, 2) for t in (q, k, v))
        allowed = slot_valid.reshape(-1, 1, 1, self.window_tokens)
        out = self._attend(qw, kw, vw, allowed).transpose(1, 2).reshape(-1, self.num_heads * self.head_dim)
        return attn.proj(out[slot_of_patch])

    def _full_attention(self, attn, x, cos, sin, frame):
        q, k, v = self._qkv(attn, x)
        q, k = self._rope(q, cos, sin), self._rope(k, cos, sin)
        q, k, v = (t.transpose(0, 1).unsqueeze(0) for t in (q, k, v))
        allowed = (frame[:, None] == frame[None, :])[None, None]
        out = self._attend(q, k, v, allowed)[0].transpose(0, 1).reshape(x.shape[0], -1)
        return attn.proj(out)

    # ------------------------------------------------------------------ forward
    def forward(self, pixel_values: torch.Tensor, image_grid_thw: torch.Tensor) -> torch.Tensor:
        t, h, w = self._grid(image_grid_thw)
        x = pixel_values @ self.patch_weight
        frame, hpos, wpos, slot_of_patch, patch_of_slot, slot_valid = self._layout(x.shape[0], h, w, t)
        cos, sin = self._rotary(hpos, wpos)
        cos, sin = cos[:, None, :], sin[:, None, :]
        for index, block in enumerate(self.visual.blocks):
            normed = block.norm1(x)
            if index in self.full_attention_blocks:
                x = x + self._full_attention(block.attn, normed, cos, sin, frame)
            else:
                x = x + self._window_attention(block.attn, normed, cos, sin, slot_of_patch, patch_of_slot, slot_valid)
            x = x + block.mlp(block.norm2(x))
        return self.visual.merger(x)
