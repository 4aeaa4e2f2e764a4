"""Hostile uploads: broken, lying, extreme and disguised files, made at test time (nothing large is committed).

Every generator takes a path and returns it after writing the file there. `CORPUS` maps a case name to
(generator, the name the file is uploaded under). Nothing here needs Django.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from tests import audio_factory as af

# ------------------------------------------------------------------------------------------- WAV building


def wav_bytes(
    data: bytes,
    *,
    channels: int = 1,
    sample_rate: int = 44100,
    bits: int = 16,
    riff_size: int | None = None,
    data_size: int | None = None,
    fmt_tag: int = 1,
) -> bytes:
    """A canonical 44-byte-header WAV around `data`; every header field can be made to lie."""
    block_align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, sample_rate, sample_rate * block_align, block_align, bits)
    data_size = len(data) if data_size is None else data_size
    riff_size = 4 + 8 + len(fmt) + 8 + len(data) if riff_size is None else riff_size
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", data_size)
        + data
    )


def _pcm16(seconds: float, sample_rate: int = 44100, channels: int = 1, freq: float = 440.0) -> bytes:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    mono = (0.3 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    return np.repeat(mono[:, np.newaxis], channels, axis=1).tobytes()


def small_wav(path, seconds: float = 0.5) -> Path:
    path = Path(path)
    path.write_bytes(wav_bytes(_pcm16(seconds, 8000), sample_rate=8000))
    return path


def wav_huge_declared_size(path) -> Path:
    """RIFF and data sizes of 0xFFFFFFFF (4 GiB) in front of 0.1 s of audio."""
    path = Path(path)
    path.write_bytes(wav_bytes(_pcm16(0.1), riff_size=0xFFFFFFFF, data_size=0xFFFFFFFF))
    return path


def wav_huge_declared_size_almost(path) -> Path:
    """Sizes of 0xFFFFFFF0 (not the 'unknown length' marker): a header promising ~4 GB, then 0.1 s."""
    path = Path(path)
    path.write_bytes(wav_bytes(_pcm16(0.1), riff_size=0xFFFFFFF0, data_size=0xFFFFFFF0))
    return path


def wav_24_hours_truncated(path) -> Path:
    """A header declaring 24 hours (8-bit mono 44.1 kHz: 3.8 GB, which fits the 32-bit field), then 1 s."""
    path = Path(path)
    declared = 86_400 * 44_100
    data = (128 + 40 * np.sin(2 * np.pi * 440 * np.arange(44_100) / 44_100)).astype(np.uint8).tobytes()
    path.write_bytes(wav_bytes(data, bits=8, data_size=declared, riff_size=36 + declared))
    return path


def wav_8ch_384k(path, seconds: float = 1.0) -> Path:
    """Valid but extreme: 8 channels at 384 kHz, 16-bit (the limits of what is accepted), 6 MB per second."""
    path = Path(path)
    path.write_bytes(wav_bytes(_pcm16(seconds, 384_000, 8), channels=8, sample_rate=384_000))
    return path


def wav_9ch(path) -> Path:
    path = Path(path)
    path.write_bytes(wav_bytes(_pcm16(0.2, 48_000, 9), channels=9, sample_rate=48_000))
    return path


def wav_768k(path) -> Path:
    path = Path(path)
    path.write_bytes(wav_bytes(_pcm16(0.2, 768_000), sample_rate=768_000))
    return path


def wav_zero_channels(path) -> Path:
    path = Path(path)
    path.write_bytes(wav_bytes(_pcm16(0.5), channels=0))
    return path


def wav_zero_sample_rate(path) -> Path:
    path = Path(path)
    path.write_bytes(wav_bytes(_pcm16(0.5), sample_rate=0))
    return path


def wav_header_only(path) -> Path:
    """A valid header and a data chunk of 0 bytes."""
    path = Path(path)
    path.write_bytes(wav_bytes(b""))
    return path


def wav_header_then_garbage_chunks(path) -> Path:
    """'RIFF....WAVE' then random bytes where the chunks should be."""
    path = Path(path)
    rng = np.random.default_rng(3)
    path.write_bytes(b"RIFF" + struct.pack("<I", 4000) + b"WAVE" + rng.integers(0, 256, 4000, np.uint8).tobytes())
    return path


# ------------------------------------------------------------------------------------------ FLAC building


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


_CRC16_TABLE = []
for _i in range(256):
    _c = _i << 8
    for _ in range(8):
        _c = ((_c << 1) ^ 0x8005) & 0xFFFF if _c & 0x8000 else (_c << 1) & 0xFFFF
    _CRC16_TABLE.append(_c)


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16_TABLE[(crc >> 8) ^ byte]
    return crc


def _utf8_number(n: int) -> bytes:
    """FLAC's frame number coding (UTF-8 of the number; the bombs here have far fewer than 0x10FFFF frames)."""
    return chr(n).encode("utf-8", "surrogatepass")


def flac_silence_bomb(
    path, *, seconds: float = 86_400, sample_rate: int = 8000, channels: int = 1, declare_length: bool = False
) -> Path:
    """A FLAC 'decompression bomb': `seconds` of digital silence as CONSTANT subframes of 65 535 samples.

    About 13 bytes per frame plus 3 per channel: 24 h of 8 kHz mono is ~140 KB and decodes to 691 M samples.
    With declare_length=False STREAMINFO says 'length unknown' (0), so only decoding can find the length.
    """
    assert sample_rate in (8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000) or sample_rate % 10 == 0
    path = Path(path)
    block = 65_535
    total = round(seconds * sample_rate)
    rate_codes = {8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8, 44100: 9, 48000: 10, 96000: 11}
    rate_code = rate_codes.get(sample_rate, 14)  # 14: 16-bit rate in tens of Hz at the end of the header
    # STREAMINFO: min/max block, min/max frame size (0 = unknown), rate(20) ch-1(3) bps-1(5) total(36), md5.
    packed = (sample_rate << 44) | ((channels - 1) << 41) | (15 << 36) | (total if declare_length else 0)
    streaminfo = struct.pack(">HH", block, block) + b"\0" * 6 + packed.to_bytes(8, "big") + b"\0" * 16
    out = bytearray(b"fLaC" + bytes([0x80]) + len(streaminfo).to_bytes(3, "big") + streaminfo)
    frame_no = 0
    remaining = total
    while remaining > 0:
        n = min(block, remaining)
        header = bytes([0xFF, 0xF8, (7 << 4) | rate_code, ((channels - 1) << 4) | (4 << 1)])
        header += _utf8_number(frame_no) + struct.pack(">H", n - 1)
        if rate_code == 14:
            header += struct.pack(">H", sample_rate // 10)
        header += bytes([_crc8(header)])
        frame = header + b"\x00\x00\x00" * channels  # CONSTANT subframe (type 0), value 0 as 16 bits
        out += frame + struct.pack(">H", _crc16(frame))
        remaining -= n
        frame_no += 1
    path.write_bytes(bytes(out))
    return path


def flac_bomb_unknown_length(path) -> Path:
    return flac_silence_bomb(path)


def flac_bomb_declared_24h(path) -> Path:
    return flac_silence_bomb(path, declare_length=True)


def flac_bomb_8ch_384k(path) -> Path:
    """Silence at the accepted extremes (8 channels, 384 kHz) for 40 minutes, length unknown: ~400 KB that
    decode to 7.4 G samples. Only the first minutes past the duration limit should ever be decoded."""
    return flac_silence_bomb(path, seconds=2400, sample_rate=384_000, channels=8)


# ------------------------------------------------------------------------------------------- MP3 / Ogg / M4A


def mp3_xing_huge_frame_count(path) -> Path:
    """A 1 s MP3 whose Xing header claims 0x7FFFFFFF frames (about 1.5 years)."""
    path = Path(path)
    af.write(path, af.tone(440, 1.0), fmt="mp3")
    data = bytearray(path.read_bytes())
    at = data.find(b"Xing")
    if at < 0:
        at = data.find(b"Info")
    assert at >= 0, "ffmpeg wrote no Xing/Info header"
    data[at : at + 4] = b"Xing"
    flags = struct.unpack_from(">I", data, at + 4)[0]
    assert flags & 1, "no frame count in the Xing header"
    struct.pack_into(">I", data, at + 8, 0x7FFFFFFF)
    path.write_bytes(bytes(data))
    return path


def mp3_header_then_garbage(path) -> Path:
    return af.corrupt_after_header(path, fmt="mp3", seconds=3.0, keep=1500)


def flac_header_then_garbage(path) -> Path:
    return af.corrupt_after_header(path, fmt="flac", seconds=3.0, keep=200)


def ogg_broken_page(path) -> Path:
    """An Ogg Vorbis file with the bytes of a page in the middle overwritten (its CRC no longer matches)."""
    path = Path(path)
    af.write(path, af.chord_progression(seconds=4.0), fmt="ogg")
    data = bytearray(path.read_bytes())
    pages = [i for i in range(len(data)) if data[i : i + 4] == b"OggS"]
    middle = pages[len(pages) // 2]
    rng = np.random.default_rng(5)
    data[middle + 27 : middle + 27 + 600] = rng.integers(0, 256, 600, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def ogg_broken_header_page(path) -> Path:
    """An Ogg Vorbis file whose setup header page (the codebooks) is random bytes."""
    path = Path(path)
    af.write(path, af.tone(440, 2.0), fmt="ogg")
    data = bytearray(path.read_bytes())
    pages = [i for i in range(len(data)) if data[i : i + 4] == b"OggS"]
    rng = np.random.default_rng(6)
    start = pages[1] + 40
    data[start : start + 300] = rng.integers(0, 256, 300, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def m4a_without_moov(path) -> Path:
    """An M4A cut just before its moov atom (written at the end without faststart): no index at all."""
    path = Path(path)
    source = path.with_name(path.name + ".src.m4a")
    af.ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", "-f", "mp4", str(source)])
    data = source.read_bytes()
    source.unlink()
    at = data.find(b"moov")
    assert at > 8
    path.write_bytes(data[: at - 4])
    return path


# ---------------------------------------------------------------------------------------- not audio at all


def text_named_wav(path) -> Path:
    path = Path(path)
    path.write_text("RIFF is a container format. This is a note about it, not a WAV file.\n" * 20)
    return path


def png_named_mp3(path) -> Path:
    path = Path(path)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 16 for _ in range(16))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


def zip_named_mp3(path) -> Path:
    import zipfile

    path = Path(path)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("song.mp3", b"\xff\xfb" + b"\x00" * 500)
    return path


def elf_named_mp3(path) -> Path:
    path = Path(path)
    header = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HHI", 2, 0x3E, 1)
    path.write_bytes(header + bytes(range(256)) * 8)
    return path


def random_bytes_named_flac(path) -> Path:
    path = Path(path)
    path.write_bytes(np.random.default_rng(11).integers(0, 256, 20_000, np.uint8).tobytes())
    return path


def hls_playlist_named_mp3(path) -> Path:
    """A playlist pointing at a local file: must never be followed."""
    path = Path(path)
    path.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
    return path


# --------------------------------------------------------------------------------------------------- corpus

#: Files that must be refused: case -> (generator, upload name). A 4xx with a sentence, nothing stored.
REFUSED = {
    "wav 24 hours declared, truncated": (wav_24_hours_truncated, "day.wav"),
    "wav ~4 GB declared, 0.1 s present": (wav_huge_declared_size_almost, "huge.wav"),
    "wav 0 channels": (wav_zero_channels, "zero-ch.wav"),
    "wav 0 Hz": (wav_zero_sample_rate, "zero-hz.wav"),
    "wav 9 channels": (wav_9ch, "nine.wav"),
    "wav 768 kHz": (wav_768k, "fast.wav"),
    "wav header only": (wav_header_only, "empty-data.wav"),
    "wav garbage chunks": (wav_header_then_garbage_chunks, "chunks.wav"),
    "flac bomb, 24 h, length unknown": (flac_bomb_unknown_length, "bomb.flac"),
    "flac bomb, 24 h declared": (flac_bomb_declared_24h, "bomb-declared.flac"),
    "flac bomb, 8 ch 384 kHz": (flac_bomb_8ch_384k, "bomb-wide.flac"),
    "mp3 xing huge frame count": (mp3_xing_huge_frame_count, "xing.mp3"),
    "mp3 header then garbage": (mp3_header_then_garbage, "garbage.mp3"),
    "flac header then garbage": (flac_header_then_garbage, "garbage.flac"),
    "ogg broken page": (ogg_broken_page, "broken.ogg"),
    "ogg broken header page": (ogg_broken_header_page, "broken-header.ogg"),
    "m4a without moov": (m4a_without_moov, "nomoov.m4a"),
    "text named .wav": (text_named_wav, "notes.wav"),
    "png named .mp3": (png_named_mp3, "cover.mp3"),
    "zip named .mp3": (zip_named_mp3, "album.mp3"),
    "elf named .mp3": (elf_named_mp3, "tool.mp3"),
    "random bytes named .flac": (random_bytes_named_flac, "noise.flac"),
    "hls playlist named .mp3": (hls_playlist_named_mp3, "list.mp3"),
}

#: Valid audio with odd headers or at the limits: accepted (see tests/test_hostile_input.py for why).
ACCEPTED = {
    "wav 8 ch 384 kHz 1 s": (wav_8ch_384k, "wide.wav"),
    "wav size 0xFFFFFFFF (streamed, length unknown)": (wav_huge_declared_size, "streamed.wav"),
}

#: Upload names that must never reach a path or a page as they are (the file itself is a valid small WAV).
HOSTILE_NAMES = {
    "control characters": "a\x01b\x07c\x1b[31mred\x7f.wav",
    "newline": "line1\nline2\r\n.wav",
    "rtl override": "evil\u202egnp.wav",
    "path traversal": "../../x.wav",
    "windows traversal": "..\\..\\windows\\x.wav",
    "absolute path": "/etc/passwd.wav",
    "1000 characters": "n" * 1000 + ".wav",
    "nul byte": "bad\x00name.wav",
    "only dots": "....",
    "empty after cleaning": "\x01\x02.",
}
