"""The pixels torchvision gives lcconv's image_folder files (test/data/torchvision-decode.test.ts).

Usage: python3 torchvision_decode.py SIZE CROP_FRACTION CHANNELS FILE...
Writes, for each file in order, its SIZE x SIZE x CHANNELS uint8 pixels to stdout: torchvision's
default loader (PIL, convert('RGB')), Resize(round(SIZE / CROP_FRACTION)) + CenterCrop(SIZE), and for
one channel PIL's convert('L'). EXIF orientation is applied first (ImageOps.exif_transpose), as lcconv
does and torchvision's loader does not.
"""
import sys

from PIL import Image, ImageOps
from torchvision import transforms

size, crop, channels = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
resize = max(size, round(size / crop))
pipeline = transforms.Compose([transforms.Resize(resize), transforms.CenterCrop(size)])
for path in sys.argv[4:]:
    with open(path, "rb") as f:
        img = ImageOps.exif_transpose(Image.open(f)).convert("RGB")
    img = pipeline(img)
    if channels == 1:
        img = img.convert("L")
    sys.stdout.buffer.write(img.tobytes())
