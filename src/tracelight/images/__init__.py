"""Images: hashing (SHA-256, MD5, PDQ), known-hash banks, near-duplicates, text inside images.

Pure functions over files and plain records; storage of banks and alerts is in
tracelight.store.image_banks. OCR (tracelight.images.ocr) is imported on demand, since loading its
models takes a moment.
"""

from tracelight.images.banks import BankEntry, BankIndex, BankMatch, parse_bank_file
from tracelight.images.hashing import hamming, hash_bytes, hash_image, image_info_dict
from tracelight.images.neardup import ImagePair, near_duplicate_pairs
from tracelight.images.pdqindex import PdqIndex

__all__ = [
    "BankEntry",
    "BankIndex",
    "BankMatch",
    "ImagePair",
    "PdqIndex",
    "hamming",
    "hash_bytes",
    "hash_image",
    "image_info_dict",
    "near_duplicate_pairs",
    "parse_bank_file",
]
