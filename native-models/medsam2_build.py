"""Builds MedSAM2 (SAM2.1 hiera-tiny) through sam2's own build_sam2, shared by export_medsam2.py
and testing/random_medsam2.py so the random-weight fixture and the real export take one path.

Without a MedSAM2 checkout, PyPI's sam2 package supplies the modules and our copy of MedSAM2's
config (medsam2/sam2.1_hiera_t512.yaml) the architecture: PyPI's sam2 ships only 1024-px
SAM2.1 configs. With a checkout, its own sam2 package and config are used, as MedSAM2 runs.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUR_CONFIG = HERE / "medsam2" / "sam2.1_hiera_t512.yaml"
# The config inside a MedSAM2 checkout's sam2 package (bowang-lab/MedSAM2 sam2/configs/).
CHECKOUT_CONFIG = "configs/sam2.1_hiera_t512.yaml"


def _use_config_dir(directory: Path) -> None:
    """Points hydra's global search path at `directory` (sam2's import registered its package instead)."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    initialize_config_dir(config_dir=str(directory), version_base="1.2")


def build_medsam2(checkpoint: Path | None, config: str | None = None, medsam2_source: Path | None = None, image_size: int | None = None):
    """The model in eval mode on the CPU; `image_size` overrides the config's (None keeps it)."""
    if medsam2_source is not None:
        # MedSAM2's fork must shadow PyPI's sam2 before anything imports it.
        sys.path.insert(0, str(Path(medsam2_source).resolve()))
    try:
        import sam2  # noqa: F401  (registers hydra's config module)
        from sam2.build_sam import build_sam2
    except ImportError as error:
        raise SystemExit(f"cannot import sam2 ({error}): run `npm run setup:python`, or pass a MedSAM2 checkout with --medsam2-source")
    if medsam2_source is not None and not str(Path(sam2.__file__).resolve()).startswith(str(Path(medsam2_source).resolve())):
        raise SystemExit(f"sam2 was imported from {sam2.__file__}, not from the checkout {medsam2_source}")

    if config is None:
        config = CHECKOUT_CONFIG if medsam2_source is not None else str(OUR_CONFIG)
    config_path = Path(config)
    if config_path.suffix == ".yaml" and config_path.is_file():
        _use_config_dir(config_path.resolve().parent)
        config_name = config_path.name
    else:
        # A name inside the imported sam2 package's configs (the checkout's, or PyPI's).
        config_name = config
    overrides = [f"++model.image_size={image_size}"] if image_size is not None else []
    model = build_sam2(config_name, str(checkpoint) if checkpoint is not None else None, device="cpu", mode="eval", hydra_overrides_extra=overrides)
    return model.eval()


def feature_sizes(image_size: int) -> list[tuple[int, int]]:
    """The backbone's three levels (strides 4, 8, 16), as MedSAM2's SAM2ImagePredictor derives them."""
    return [(image_size // 4, image_size // 4), (image_size // 8, image_size // 8), (image_size // 16, image_size // 16)]


def image_predictor(model):
    """SAM2ImagePredictor for `model`: PyPI's predictor hard-codes 1024-px feature sizes, MedSAM2's
    fork computes them from model.image_size (bowang-lab/MedSAM2 sam2/sam2_image_predictor.py)."""
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    predictor = SAM2ImagePredictor(model)
    predictor._bb_feat_sizes = feature_sizes(model.image_size)
    return predictor
