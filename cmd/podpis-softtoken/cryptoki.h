/*
 * The PKCS#11 v2.40 types and function list that podpis-softtoken
 * implements, written for this module: only what it needs. Unix ABI:
 * natural alignment, unsigned long CK_ULONG (64 bits). Windows ABI: the
 * structures packed to one byte, as every Windows PKCS#11 module and
 * application compiles them (PKCS#11 §2.1), and unsigned long is 32 bits.
 * Packing leaves pointers and some flags unaligned, where Go cannot reach
 * them: the accessors at the end are the only way the Go code touches
 * those fields, on every system.
 */
#ifndef PODPIS_CRYPTOKI_H
#define PODPIS_CRYPTOKI_H

#ifdef _WIN32
#pragma pack(push, cryptoki, 1)
#endif

typedef unsigned char CK_BYTE;
typedef CK_BYTE CK_CHAR;
typedef CK_BYTE CK_UTF8CHAR;
typedef CK_BYTE CK_BBOOL;
typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_FLAGS;
typedef CK_ULONG CK_RV;
typedef CK_ULONG CK_SLOT_ID;
typedef CK_ULONG CK_SESSION_HANDLE;
typedef CK_ULONG CK_OBJECT_HANDLE;
typedef CK_ULONG CK_ATTRIBUTE_TYPE;
typedef CK_ULONG CK_MECHANISM_TYPE;
typedef CK_ULONG CK_USER_TYPE;
typedef CK_ULONG CK_STATE;
typedef CK_ULONG CK_NOTIFICATION;
typedef void *CK_VOID_PTR;

typedef struct { CK_BYTE major; CK_BYTE minor; } CK_VERSION;

typedef struct {
	CK_VERSION cryptokiVersion;
	CK_UTF8CHAR manufacturerID[32];
	CK_FLAGS flags;
	CK_UTF8CHAR libraryDescription[32];
	CK_VERSION libraryVersion;
} CK_INFO;

typedef struct {
	CK_UTF8CHAR slotDescription[64];
	CK_UTF8CHAR manufacturerID[32];
	CK_FLAGS flags;
	CK_VERSION hardwareVersion;
	CK_VERSION firmwareVersion;
} CK_SLOT_INFO;

typedef struct {
	CK_UTF8CHAR label[32];
	CK_UTF8CHAR manufacturerID[32];
	CK_UTF8CHAR model[16];
	CK_CHAR serialNumber[16];
	CK_FLAGS flags;
	CK_ULONG ulMaxSessionCount;
	CK_ULONG ulSessionCount;
	CK_ULONG ulMaxRwSessionCount;
	CK_ULONG ulRwSessionCount;
	CK_ULONG ulMaxPinLen;
	CK_ULONG ulMinPinLen;
	CK_ULONG ulTotalPublicMemory;
	CK_ULONG ulFreePublicMemory;
	CK_ULONG ulTotalPrivateMemory;
	CK_ULONG ulFreePrivateMemory;
	CK_VERSION hardwareVersion;
	CK_VERSION firmwareVersion;
	CK_CHAR utcTime[16];
} CK_TOKEN_INFO;

typedef struct {
	CK_SLOT_ID slotID;
	CK_STATE state;
	CK_FLAGS flags;
	CK_ULONG ulDeviceError;
} CK_SESSION_INFO;

typedef struct {
	CK_ATTRIBUTE_TYPE type;
	CK_VOID_PTR pValue;
	CK_ULONG ulValueLen;
} CK_ATTRIBUTE;

typedef struct {
	CK_MECHANISM_TYPE mechanism;
	CK_VOID_PTR pParameter;
	CK_ULONG ulParameterLen;
} CK_MECHANISM;

typedef struct {
	CK_ULONG ulMinKeySize;
	CK_ULONG ulMaxKeySize;
	CK_FLAGS flags;
} CK_MECHANISM_INFO;

/* C_Initialize's argument: the application's mutex callbacks, which this
 * module does not need (its own locks are the operating system's), and a
 * reserved pointer that must be NULL. */
typedef struct {
	CK_VOID_PTR CreateMutex;
	CK_VOID_PTR DestroyMutex;
	CK_VOID_PTR LockMutex;
	CK_VOID_PTR UnlockMutex;
	CK_FLAGS flags;
	CK_VOID_PTR pReserved;
} CK_C_INITIALIZE_ARGS;

/* The function list: the version, then the 68 entry points of PKCS#11
 * v2.x in the order of the standard. Stored as data pointers; every
 * supported platform gives them the size and alignment of function
 * pointers. */
typedef struct {
	CK_VERSION version;
	void *fn[68];
} CK_FUNCTION_LIST;

#ifdef _WIN32
#pragma pack(pop, cryptoki)
#endif

static inline void podpis_set_info_flags(CK_INFO *i, CK_FLAGS f) { i->flags = f; }
static inline void *podpis_attr_value(CK_ATTRIBUTE *a) { return a->pValue; }

/* podpis_init_args_bad: pReserved set, or some but not all of the mutex
 * callbacks (PKCS#11 v2.40 §5.4, C_Initialize). */
static inline int podpis_init_args_bad(CK_C_INITIALIZE_ARGS *a) {
	int n = (a->CreateMutex != 0) + (a->DestroyMutex != 0) + (a->LockMutex != 0) + (a->UnlockMutex != 0);
	return a->pReserved != 0 || (n != 0 && n != 4);
}

#endif

