"""Read-aloud in Vietnamese.

Modules:
- speech: the speech normaliser (abbreviations, dates, amounts, codes, phones), pure.
- engine: the espeak-ng engine behind speak(text) -> wav, and its WAV cache.

May import: kiosk foundations only. The screens' fixed prompts live in kiosk.ui.prompts.
"""
