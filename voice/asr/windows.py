"""Cut long audio into <= 30 s windows for engines that decode one window at a time."""

from __future__ import annotations

WINDOW = 30 * 16000


def speech_windows(
    n_samples: int, regions: list[tuple[int, int]] | None, size: int = WINDOW
) -> list[tuple[int, int]]:
    """Group consecutive speech regions into windows of at most `size` samples.

    Without regions the audio is cut at fixed `size` intervals. A region longer than `size` is
    cut hard; Whisper cannot see further than one window.
    """
    if not regions:
        return [(s, min(s + size, n_samples)) for s in range(0, max(n_samples, 1), size)]
    windows: list[tuple[int, int]] = []
    start, end = regions[0]
    for r_start, r_end in regions[1:]:
        if r_end - start <= size:
            end = r_end
        else:
            windows.append((start, end))
            start, end = r_start, r_end
    windows.append((start, end))
    out: list[tuple[int, int]] = []
    for w_start, w_end in windows:
        out.extend((s, min(s + size, w_end)) for s in range(w_start, w_end, size))
    return out
