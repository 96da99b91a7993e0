#pragma once
// Strict UTF-8 decoding (no overlong forms, no surrogates, nothing above U+10FFFF), shared
// by the YAML input check and the rendering of user text in error messages.
#include <cstddef>
#include <cstdint>

namespace quiesce::internal {

// Decodes the character at `s` (with `n` > 0 bytes available) into `*cp`. Returns its length
// in bytes, or 0 when the bytes there are not valid UTF-8.
inline size_t decode_utf8(const unsigned char* s, size_t n, uint32_t* cp) {
  const unsigned char c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len = 0;
  uint32_t v = 0, min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

}  // namespace quiesce::internal
