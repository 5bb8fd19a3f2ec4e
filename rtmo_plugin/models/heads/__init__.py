"""rtmo_plugin.models.heads: the RTMO head and its parts."""
from .dcc import DCC
from .gau import ChannelWiseScale, GatedAttentionUnit, ScaleNorm
from .rtmo_dcc_head import RTMODCCHead
from .rtmo_head_module import RTMOHeadModule
from .sine_encoding import SineBinEncoding

__all__ = ["ChannelWiseScale", "DCC", "GatedAttentionUnit", "RTMODCCHead", "RTMOHeadModule", "ScaleNorm",
           "SineBinEncoding"]
