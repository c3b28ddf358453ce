"""Real handwritten digits from outside MNIST, drawn as a user's photos: dark ink on light paper, off-centre.

The digits are scikit-learn's `load_digits` (the UCI optical-recognition set: 1 797 digits by 43 writers, none
of them MNIST's), shipped inside scikit-learn, so no download is needed. Each 8×8 scan is enlarged with a smooth
filter into a pen-like stroke of random size and ink, and placed at a random spot on a larger page with uneven
paper shade and sensor noise — what `rnnkit predict RUN DIR` meets when a user photographs their own digits.
"""
import os

import numpy as np

PAGE = 96  # pixels on a side of the photographed page
INK_SIZES = (28, 60)  # the digit's height on the page, in pixels


def digit_photo(scan, rng):
    """One 8×8 scan (values 0..16) → a PAGE×PAGE uint8 photo: dark ink on light paper, off-centre."""
    from PIL import Image
    size = int(rng.integers(*INK_SIZES))
    ink = np.asarray(Image.fromarray((scan / 16.0 * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC),
                     dtype=np.float32) / 255.0
    ink = np.clip((ink - 0.25) / 0.5, 0.0, 1.0)  # a pen's stroke: a firm edge, not the scanner's blur
    page_ink = np.zeros((PAGE, PAGE), dtype=np.float32)
    top, left = rng.integers(0, PAGE - size + 1, size=2)
    page_ink[top: top + size, left: left + size] = ink
    shade = rng.uniform(0.78, 0.97) + np.linspace(-0.04, 0.04, PAGE)[None, :] * rng.choice([-1, 1])
    darkness = rng.uniform(0.05, 0.3)  # the ink's own grey
    photo = shade * (1.0 - page_ink) + darkness * page_ink + rng.normal(0.0, 0.015, (PAGE, PAGE))
    return (np.clip(photo, 0.0, 1.0) * 255).astype(np.uint8)


def write_digit_photos(folder, count=300, seed=0):
    """Write `count` photos (an equal share per digit) to folder/<digit>/<index>.png; returns their number."""
    from PIL import Image
    from sklearn.datasets import load_digits
    digits = load_digits()
    rng = np.random.default_rng(seed)
    per_digit = count // 10
    written = 0
    for digit in range(10):
        os.makedirs(os.path.join(folder, str(digit)), exist_ok=True)
        chosen = rng.choice(np.flatnonzero(digits.target == digit), size=per_digit, replace=False)
        for index in chosen:
            photo = digit_photo(digits.images[index], rng)
            Image.fromarray(photo).save(os.path.join(folder, str(digit), f"{index}.png"))
            written += 1
    return written
