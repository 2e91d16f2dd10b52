"""The image denoiser: diffusers' ``UNet2DModel`` with the extra inputs (ω, μ̂) as extra input channels."""

from __future__ import annotations

import torch
from diffusers import UNet2DModel
from torch import nn


class DenoiserUNet(nn.Module):
    """Predicts ε or v (in r-space) for C×H×W images x_t from [x_t, extra inputs] (channels), t and a class label."""

    def __init__(self, data_shape: tuple[int, int, int], num_extra: int, channels: list[int],
                 layers_per_block: int = 1, attention: bool = False, num_classes: int = 0) -> None:
        super().__init__()
        c, h, _ = data_shape
        levels = len(channels)
        down = ["DownBlock2D"] * levels
        up = ["UpBlock2D"] * levels
        if attention:  # self-attention at the lowest resolution only (it costs O((HW)²))
            down[-1], up[0] = "AttnDownBlock2D", "AttnUpBlock2D"
        self.unet = UNet2DModel(
            sample_size=h,
            in_channels=c * (1 + num_extra),
            out_channels=c,
            block_out_channels=tuple(channels),
            layers_per_block=layers_per_block,
            down_block_types=tuple(down),
            up_block_types=tuple(up),
            add_attention=attention,
            norm_num_groups=8,
            num_class_embeds=num_classes or None,
        )

    def forward(
        self, x_t: torch.Tensor, t: torch.Tensor, extra: list[torch.Tensor], class_labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.unet(torch.cat([x_t, *extra], dim=1), t, class_labels=class_labels).sample
