"""sft-curator: build clean, balanced supervised fine-tuning datasets.

Importing this package stays cheap: nothing here imports torch, transformers or textual.
"""

__version__ = "0.1.0"

from curator.record import Conversation, Message  # noqa: E402  (re-export the one data model)

__all__ = ["Conversation", "Message", "__version__"]
