"""Hotel-room matching (TraffickCam-style) and background search: pure, see docs/rooms.md.

    feats = features_of(jpeg_bytes, auto_mask=True)
    index = RoomIndex(train_codebook([...gallery descriptors...]))
    index.add(image_id, hotel_id, gallery_feats)
    best = rank(index, feats, k=20)
"""

from tracelight.rooms.features import Features, Region, RoomImageError, decode, extract, features_of
from tracelight.rooms.index import Candidate, RoomIndex, train_codebook
from tracelight.rooms.verify import HotelMatch, Verified, confidence, draw_pair, rank, verify

__all__ = ["Candidate", "Features", "HotelMatch", "Region", "RoomImageError", "RoomIndex",
           "Verified", "confidence", "decode", "draw_pair", "extract", "features_of", "rank",
           "train_codebook", "verify"]
