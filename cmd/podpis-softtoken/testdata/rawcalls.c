/*
 * rawcalls: the calls of PKCS#11 that miekg/pkcs11 cannot make, made on the
 * module's function list as a C application makes them. Prints one
 * "name rv" line per call for module_test.go to check.
 *
 *	gcc -o rawcalls rawcalls.c -ldl && ./rawcalls libpodpis-softtoken.so
 */
#include <dlfcn.h>
#include <stdio.h>
#include "../cryptoki.h"

typedef CK_RV (*get_list_fn)(CK_FUNCTION_LIST **);
typedef CK_RV (*init_fn)(void *);
typedef CK_RV (*open_fn)(CK_SLOT_ID, CK_FLAGS, void *, void *, CK_SESSION_HANDLE *);
typedef CK_RV (*session_fn)(CK_SESSION_HANDLE);
typedef CK_RV (*seed_fn)(CK_SESSION_HANDLE, CK_BYTE *, CK_ULONG);

/* Indexes in the function list, in the order of the standard. */
enum { INITIALIZE = 0, FINALIZE = 1, OPEN_SESSION = 12, SEED_RANDOM = 63, GET_FUNCTION_STATUS = 65, CANCEL_FUNCTION = 66 };

static CK_RV dummy_mutex(void) { return 0; }

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: rawcalls MODULE\n");
		return 2;
	}
	void *lib = dlopen(argv[1], RTLD_NOW);
	if (!lib) {
		fprintf(stderr, "%s\n", dlerror());
		return 2;
	}
	get_list_fn get_list = (get_list_fn)dlsym(lib, "C_GetFunctionList");
	CK_FUNCTION_LIST *fl = 0;
	if (!get_list || get_list(&fl) != 0) {
		fprintf(stderr, "no function list\n");
		return 2;
	}
	init_fn initialize = (init_fn)fl->fn[INITIALIZE], finalize = (init_fn)fl->fn[FINALIZE];
	session_fn status = (session_fn)fl->fn[GET_FUNCTION_STATUS], cancel = (session_fn)fl->fn[CANCEL_FUNCTION];
	seed_fn seed = (seed_fn)fl->fn[SEED_RANDOM];
	open_fn open_session = (open_fn)fl->fn[OPEN_SESSION];

	printf("GetFunctionStatus-before-Initialize %#lx\n", status(1));

	int reserved;
	CK_C_INITIALIZE_ARGS bad = {0};
	bad.pReserved = &reserved;
	printf("Initialize-pReserved %#lx\n", initialize(&bad));
	CK_C_INITIALIZE_ARGS partial = {0};
	partial.CreateMutex = (void *)dummy_mutex;
	printf("Initialize-some-mutex-callbacks %#lx\n", initialize(&partial));
	CK_C_INITIALIZE_ARGS good = {0};
	good.flags = 2; /* CKF_OS_LOCKING_OK */
	printf("Initialize %#lx\n", initialize(&good));

	CK_SESSION_HANDLE h = 0;
	printf("OpenSession %#lx\n", open_session(0, 4 /* CKF_SERIAL_SESSION */, 0, 0, &h));
	printf("GetFunctionStatus %#lx\n", status(h));
	printf("CancelFunction %#lx\n", cancel(h));
	printf("GetFunctionStatus-bad-session %#lx\n", status(h + 1000));
	printf("CancelFunction-bad-session %#lx\n", cancel(h + 1000));
	printf("SeedRandom-NULL %#lx\n", seed(h, 0, 8));
	CK_BYTE s[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	printf("SeedRandom %#lx\n", seed(h, s, sizeof s));
	printf("SeedRandom-bad-session %#lx\n", seed(h + 1000, s, sizeof s));
	printf("Finalize-pReserved %#lx\n", finalize(&reserved));
	printf("Finalize %#lx\n", finalize(0));
	return 0;
}
