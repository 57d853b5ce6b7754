package softtoken

// PKCS#11 v2.40 constants the token uses, and the TC26 vendor-defined ones
// for GOST R 34.10/34.11-2012 (base 0xD4321000, as in OpenSC's pkcs11.h and
// the TC26 PKCS#11 guideline). const_test.go checks the standard ones
// against github.com/miekg/pkcs11.
const (
	CKR_OK                             = 0x000
	CKR_SLOT_ID_INVALID                = 0x003
	CKR_GENERAL_ERROR                  = 0x005
	CKR_ARGUMENTS_BAD                  = 0x007
	CKR_ATTRIBUTE_READ_ONLY            = 0x010
	CKR_ATTRIBUTE_SENSITIVE            = 0x011
	CKR_ATTRIBUTE_TYPE_INVALID         = 0x012
	CKR_ATTRIBUTE_VALUE_INVALID        = 0x013
	CKR_ACTION_PROHIBITED              = 0x01B
	CKR_DATA_LEN_RANGE                 = 0x021
	CKR_DEVICE_ERROR                   = 0x030
	CKR_DEVICE_REMOVED                 = 0x032
	CKR_FUNCTION_NOT_PARALLEL          = 0x051
	CKR_FUNCTION_NOT_SUPPORTED         = 0x054
	CKR_KEY_HANDLE_INVALID             = 0x060
	CKR_KEY_TYPE_INCONSISTENT          = 0x063
	CKR_KEY_FUNCTION_NOT_PERMITTED     = 0x068
	CKR_MECHANISM_INVALID              = 0x070
	CKR_MECHANISM_PARAM_INVALID        = 0x071
	CKR_OBJECT_HANDLE_INVALID          = 0x082
	CKR_OPERATION_ACTIVE               = 0x090
	CKR_OPERATION_NOT_INITIALIZED      = 0x091
	CKR_PIN_INCORRECT                  = 0x0A0
	CKR_PIN_LEN_RANGE                  = 0x0A2
	CKR_PIN_LOCKED                     = 0x0A4
	CKR_SESSION_HANDLE_INVALID         = 0x0B3
	CKR_SIGNATURE_INVALID              = 0x0C0
	CKR_SIGNATURE_LEN_RANGE            = 0x0C1
	CKR_SESSION_PARALLEL_NOT_SUPPORTED = 0x0B4
	CKR_SESSION_READ_ONLY              = 0x0B5
	CKR_SESSION_READ_ONLY_EXISTS       = 0x0B7
	CKR_SESSION_READ_WRITE_SO_EXISTS   = 0x0B8
	CKR_TEMPLATE_INCOMPLETE            = 0x0D0
	CKR_TEMPLATE_INCONSISTENT          = 0x0D1
	CKR_TOKEN_NOT_PRESENT              = 0x0E0
	CKR_USER_ALREADY_LOGGED_IN         = 0x100
	CKR_USER_NOT_LOGGED_IN             = 0x101
	CKR_USER_TYPE_INVALID              = 0x103
	CKR_USER_ANOTHER_ALREADY_LOGGED_IN = 0x104
	CKR_BUFFER_TOO_SMALL               = 0x150
	CKR_CRYPTOKI_NOT_INITIALIZED       = 0x190
	CKR_CRYPTOKI_ALREADY_INITIALIZED   = 0x191

	CKF_TOKEN_PRESENT                 = 0x1
	CKF_REMOVABLE_DEVICE              = 0x2
	CKF_HW_SLOT                       = 0x4
	CKF_RNG                           = 0x1
	CKF_LOGIN_REQUIRED                = 0x4
	CKF_PROTECTED_AUTHENTICATION_PATH = 0x100
	CKF_USER_PIN_INITIALIZED          = 0x8
	CKF_TOKEN_INITIALIZED             = 0x400
	CKF_USER_PIN_COUNT_LOW            = 0x10000
	CKF_USER_PIN_FINAL_TRY            = 0x20000
	CKF_USER_PIN_LOCKED               = 0x40000
	CKF_RW_SESSION                    = 0x2
	CKF_SERIAL_SESSION                = 0x4
	CKF_SIGN                          = 0x800
	CKF_VERIFY                        = 0x2000
	CKF_DIGEST                        = 0x400
	CKF_GENERATE_KEY_PAIR             = 0x10000
	CKF_SO_PIN_COUNT_LOW              = 0x100000
	CKF_SO_PIN_FINAL_TRY              = 0x200000
	CKF_SO_PIN_LOCKED                 = 0x400000

	CKS_RO_PUBLIC_SESSION = 0
	CKS_RO_USER_FUNCTIONS = 1
	CKS_RW_PUBLIC_SESSION = 2
	CKS_RW_USER_FUNCTIONS = 3
	CKS_RW_SO_FUNCTIONS   = 4

	CKU_SO   = 0
	CKU_USER = 1

	CKO_DATA        = 0
	CKO_CERTIFICATE = 1
	CKO_PUBLIC_KEY  = 2
	CKO_PRIVATE_KEY = 3

	CKC_X_509 = 0

	CKK_RSA           = 0x00
	CKK_EC            = 0x03
	CKK_GOSTR3410     = 0x30
	CKK_GOSTR3410_512 = 0xD4321003

	CKA_CLASS               = 0x000
	CKA_TOKEN               = 0x001
	CKA_PRIVATE             = 0x002
	CKA_LABEL               = 0x003
	CKA_APPLICATION         = 0x010
	CKA_VALUE               = 0x011
	CKA_OBJECT_ID           = 0x012
	CKA_CERTIFICATE_TYPE    = 0x080
	CKA_ISSUER              = 0x081
	CKA_SERIAL_NUMBER       = 0x082
	CKA_KEY_TYPE            = 0x100
	CKA_SUBJECT             = 0x101
	CKA_ID                  = 0x102
	CKA_SENSITIVE           = 0x103
	CKA_ENCRYPT             = 0x104
	CKA_DECRYPT             = 0x105
	CKA_WRAP                = 0x106
	CKA_UNWRAP              = 0x107
	CKA_SIGN                = 0x108
	CKA_SIGN_RECOVER        = 0x109
	CKA_VERIFY              = 0x10A
	CKA_VERIFY_RECOVER      = 0x10B
	CKA_DERIVE              = 0x10C
	CKA_LOCAL               = 0x163
	CKA_NEVER_EXTRACTABLE   = 0x164
	CKA_ALWAYS_SENSITIVE    = 0x165
	CKA_MODIFIABLE          = 0x170
	CKA_ALWAYS_AUTHENTICATE = 0x202
	CKA_KEY_GEN_MECHANISM   = 0x166
	CKA_TRUSTED             = 0x086
	CKA_START_DATE          = 0x110
	CKA_END_DATE            = 0x111
	CKA_MODULUS_BITS        = 0x121
	CKA_MODULUS             = 0x120
	CKA_PUBLIC_EXPONENT     = 0x122
	CKA_EXTRACTABLE         = 0x162
	CKA_EC_PARAMS           = 0x180
	CKA_EC_POINT            = 0x181
	CKA_GOSTR3410_PARAMS    = 0x250
	CKA_GOSTR3411_PARAMS    = 0x251

	CKM_RSA_PKCS_KEY_PAIR_GEN  = 0x0000
	CKM_RSA_PKCS               = 0x0001
	CKM_EC_KEY_PAIR_GEN        = 0x1040
	CKM_GOSTR3410_KEY_PAIR_GEN = 0x1200
	// CKM_GOSTR3410_512_KEY_PAIR_GEN is TC26's: CKM_VENDOR_PKCS11_RU_TEAM_TC26
	// | 0x005, as in OpenSC's pkcs11.h and Rutoken's headers.
	CKM_GOSTR3410_512_KEY_PAIR_GEN      = 0xD4321005
	CKM_SHA256_RSA_PKCS                 = 0x0040
	CKM_ECDSA                           = 0x1041
	CKM_ECDSA_SHA256                    = 0x1044
	CKM_GOSTR3410                       = 0x1201
	CKM_GOSTR3410_512                   = 0xD4321006
	CKM_GOSTR3410_WITH_GOSTR3411_12_256 = 0xD4321008
	CKM_GOSTR3410_WITH_GOSTR3411_12_512 = 0xD4321009

	// CK_UNAVAILABLE_INFORMATION marks an attribute value that cannot be
	// returned.
	CK_UNAVAILABLE_INFORMATION = ^uint64(0)
)
