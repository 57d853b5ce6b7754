/* Starts a program the way a shortcut does from a console program: no
 * handles inherited (bInheritHandles FALSE, no STARTF_USESTDHANDLES), so a
 * GUI-subsystem child has no standard output unless it attaches to this
 * console. Waits and returns its exit code. */
#include <windows.h>
#include <stdio.h>
int main(int argc, char **argv) {
	STARTUPINFOA si = { sizeof si };
	PROCESS_INFORMATION pi;
	char *cmd = GetCommandLineA();
	/* skip our own name */
	if (*cmd == '"') { cmd = strchr(cmd + 1, '"') + 1; } else { while (*cmd && *cmd != ' ') cmd++; }
	while (*cmd == ' ') cmd++;
	if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
		fprintf(stderr, "CreateProcess: %lu\n", GetLastError());
		return 127;
	}
	WaitForSingleObject(pi.hProcess, INFINITE);
	DWORD code = 1;
	GetExitCodeProcess(pi.hProcess, &code);
	return (int)code;
}
