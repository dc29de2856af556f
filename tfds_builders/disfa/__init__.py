"""disfa: DISFA frames in the paper's ``fine_tune_images`` layout (manual download)."""
