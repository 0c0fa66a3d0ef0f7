"""Training on curated output (TRL SFTTrainer + PEFT). Needs the `[train]` extra."""
