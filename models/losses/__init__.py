"""Reconstruction losses: pixels (L1, SSIM, class cross-entropy), our engine-trained feature net,
and DINOv2 / SAM2.1 feature losses when the user gives their weights.

``foundation`` imports transformers only when a foundation loss is built, so importing this
package stays fast.
"""
from models.losses.combined import LossConfig, ReconstructionLoss
from models.losses.feature_net import (DEFAULT_FEATURE_NET_PATH, FeatureLoss, FeatureNet, FeatureNetConfig,
                                       load_feature_net, save_feature_net, train_feature_net)
from models.losses.image import class_cross_entropy, l1_loss, ssim, ssim_loss

__all__ = [
    "LossConfig", "ReconstructionLoss", "DEFAULT_FEATURE_NET_PATH", "FeatureLoss", "FeatureNet", "FeatureNetConfig",
    "load_feature_net", "save_feature_net", "train_feature_net", "class_cross_entropy", "l1_loss", "ssim", "ssim_loss",
]
