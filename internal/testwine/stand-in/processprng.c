#include <windows.h>
/* Go's runtime asks bcryptprimitives.dll for ProcessPrng (Windows 10+);
   Wine 8.0 lacks it. RtlGenRandom (advapi32 SystemFunction036) is the same
   system generator under its older name. */
BOOLEAN WINAPI SystemFunction036(PVOID, ULONG);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n)) return FALSE;
		data += n; len -= n;
	}
	return TRUE;
}
