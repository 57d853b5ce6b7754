/* A GUI-subsystem program (-mwindows) that writes to whatever standard
 * output it was given and never calls AttachConsole. On Windows, started
 * by launch.exe (no handles inherited) it prints nothing; under Wine 8 it
 * prints: Wine gives it the Linux process's standard handles. */
#include <windows.h>
int WINAPI WinMain(HINSTANCE a, HINSTANCE b, LPSTR c, int d) {
	DWORD n;
	HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
	if (out == NULL || out == INVALID_HANDLE_VALUE) return 3;
	return WriteFile(out, "printed without attaching\n", 26, &n, NULL) ? 0 : 4;
}
