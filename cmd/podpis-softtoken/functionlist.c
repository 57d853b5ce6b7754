//go:build unix || windows

// The function list podpis-softtoken hands out: the entry points the Go
// code exports, and a stub for the rest of PKCS#11.
#include "cryptoki.h"
#include "_cgo_export.h"

#define CKR_FUNCTION_NOT_SUPPORTED 0x54

#define CKR_CRYPTOKI_NOT_INITIALIZED 0x190

/* Even a function the module lacks answers a call before C_Initialize as
 * PKCS#11 says every function must. */
static CK_RV podpis_not_supported(void) {
	return podpis_initialized() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED;
}

/* A missing function that takes a session first checks the session, so
 * that a bad handle gets CKR_SESSION_HANDLE_INVALID from every entry
 * point. */
static CK_RV podpis_not_supported_session(CK_SESSION_HANDLE h) {
	CK_RV rv = podpis_check_session(h);
	return rv ? rv : CKR_FUNCTION_NOT_SUPPORTED;
}

CK_FUNCTION_LIST podpis_function_list = {
	{2, 40},
	{
		(void *)C_Initialize, /* C_Initialize */
		(void *)C_Finalize, /* C_Finalize */
		(void *)C_GetInfo, /* C_GetInfo */
		(void *)C_GetFunctionList, /* C_GetFunctionList */
		(void *)C_GetSlotList, /* C_GetSlotList */
		(void *)C_GetSlotInfo, /* C_GetSlotInfo */
		(void *)C_GetTokenInfo, /* C_GetTokenInfo */
		(void *)C_GetMechanismList, /* C_GetMechanismList */
		(void *)C_GetMechanismInfo, /* C_GetMechanismInfo */
		(void *)podpis_not_supported, /* C_InitToken */
		(void *)C_InitPIN, /* C_InitPIN */
		(void *)C_SetPIN, /* C_SetPIN */
		(void *)C_OpenSession, /* C_OpenSession */
		(void *)C_CloseSession, /* C_CloseSession */
		(void *)C_CloseAllSessions, /* C_CloseAllSessions */
		(void *)C_GetSessionInfo, /* C_GetSessionInfo */
		(void *)podpis_not_supported_session, /* C_GetOperationState */
		(void *)podpis_not_supported_session, /* C_SetOperationState */
		(void *)C_Login, /* C_Login */
		(void *)C_Logout, /* C_Logout */
		(void *)C_CreateObject, /* C_CreateObject */
		(void *)C_CopyObject, /* C_CopyObject */
		(void *)C_DestroyObject, /* C_DestroyObject */
		(void *)C_GetObjectSize, /* C_GetObjectSize */
		(void *)C_GetAttributeValue, /* C_GetAttributeValue */
		(void *)C_SetAttributeValue, /* C_SetAttributeValue */
		(void *)C_FindObjectsInit, /* C_FindObjectsInit */
		(void *)C_FindObjects, /* C_FindObjects */
		(void *)C_FindObjectsFinal, /* C_FindObjectsFinal */
		(void *)podpis_not_supported_session, /* C_EncryptInit */
		(void *)podpis_not_supported_session, /* C_Encrypt */
		(void *)podpis_not_supported_session, /* C_EncryptUpdate */
		(void *)podpis_not_supported_session, /* C_EncryptFinal */
		(void *)podpis_not_supported_session, /* C_DecryptInit */
		(void *)podpis_not_supported_session, /* C_Decrypt */
		(void *)podpis_not_supported_session, /* C_DecryptUpdate */
		(void *)podpis_not_supported_session, /* C_DecryptFinal */
		(void *)C_DigestInit, /* C_DigestInit */
		(void *)C_Digest, /* C_Digest */
		(void *)C_DigestUpdate, /* C_DigestUpdate */
		(void *)C_DigestKey, /* C_DigestKey */
		(void *)C_DigestFinal, /* C_DigestFinal */
		(void *)C_SignInit, /* C_SignInit */
		(void *)C_Sign, /* C_Sign */
		(void *)C_SignUpdate, /* C_SignUpdate */
		(void *)C_SignFinal, /* C_SignFinal */
		(void *)podpis_not_supported_session, /* C_SignRecoverInit */
		(void *)podpis_not_supported_session, /* C_SignRecover */
		(void *)C_VerifyInit, /* C_VerifyInit */
		(void *)C_Verify, /* C_Verify */
		(void *)C_VerifyUpdate, /* C_VerifyUpdate */
		(void *)C_VerifyFinal, /* C_VerifyFinal */
		(void *)podpis_not_supported_session, /* C_VerifyRecoverInit */
		(void *)podpis_not_supported_session, /* C_VerifyRecover */
		(void *)podpis_not_supported_session, /* C_DigestEncryptUpdate */
		(void *)podpis_not_supported_session, /* C_DecryptDigestUpdate */
		(void *)podpis_not_supported_session, /* C_SignEncryptUpdate */
		(void *)podpis_not_supported_session, /* C_DecryptVerifyUpdate */
		(void *)C_GenerateKey, /* C_GenerateKey */
		(void *)C_GenerateKeyPair, /* C_GenerateKeyPair */
		(void *)podpis_not_supported_session, /* C_WrapKey */
		(void *)podpis_not_supported_session, /* C_UnwrapKey */
		(void *)podpis_not_supported_session, /* C_DeriveKey */
		(void *)C_SeedRandom, /* C_SeedRandom */
		(void *)C_GenerateRandom, /* C_GenerateRandom */
		(void *)C_GetFunctionStatus, /* C_GetFunctionStatus */
		(void *)C_CancelFunction, /* C_CancelFunction */
		(void *)podpis_not_supported, /* C_WaitForSlotEvent */
	},
};
