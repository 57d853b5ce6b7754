package softtoken

// ulongSize is the size of C's unsigned long on Windows: 32 bits, also on
// 64-bit Windows.
const ulongSize = 4
