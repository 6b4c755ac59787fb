"""The measured critic (tier 1): a clip judged by measurements alone (motion, freeze, black frames,
flicker, colour and wardrobe drift, the camera's move, the hand-over to the next shot), on the CPU.
Every reel runs it, whichever family made the clip; a vision-language critic (tier 2) only judges
what it passes."""
