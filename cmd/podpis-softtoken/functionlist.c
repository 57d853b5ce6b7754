//go:build unix || windows

// The function list podpis-softtoken hands out: the entry points the Go
// code exports, and a stub for the rest of PKCS#11.
#include "cryptoki.h"
#include "_cgo_export.h"

#define CKR_FUNCTION_NOT_SUPPORTED 0x54

static CK_RV podpis_not_supported(void) { return CKR_FUNCTION_NOT_SUPPORTED; }

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
		(void *)podpis_not_supported, /* C_InitPIN */
		(void *)podpis_not_supported, /* C_SetPIN */
		(void *)C_OpenSession, /* C_OpenSession */
		(void *)C_CloseSession, /* C_CloseSession */
		(void *)C_CloseAllSessions, /* C_CloseAllSessions */
		(void *)C_GetSessionInfo, /* C_GetSessionInfo */
		(void *)podpis_not_supported, /* C_GetOperationState */
		(void *)podpis_not_supported, /* C_SetOperationState */
		(void *)C_Login, /* C_Login */
		(void *)C_Logout, /* C_Logout */
		(void *)podpis_not_supported, /* C_CreateObject */
		(void *)podpis_not_supported, /* C_CopyObject */
		(void *)podpis_not_supported, /* C_DestroyObject */
		(void *)podpis_not_supported, /* C_GetObjectSize */
		(void *)C_GetAttributeValue, /* C_GetAttributeValue */
		(void *)podpis_not_supported, /* C_SetAttributeValue */
		(void *)C_FindObjectsInit, /* C_FindObjectsInit */
		(void *)C_FindObjects, /* C_FindObjects */
		(void *)C_FindObjectsFinal, /* C_FindObjectsFinal */
		(void *)podpis_not_supported, /* C_EncryptInit */
		(void *)podpis_not_supported, /* C_Encrypt */
		(void *)podpis_not_supported, /* C_EncryptUpdate */
		(void *)podpis_not_supported, /* C_EncryptFinal */
		(void *)podpis_not_supported, /* C_DecryptInit */
		(void *)podpis_not_supported, /* C_Decrypt */
		(void *)podpis_not_supported, /* C_DecryptUpdate */
		(void *)podpis_not_supported, /* C_DecryptFinal */
		(void *)podpis_not_supported, /* C_DigestInit */
		(void *)podpis_not_supported, /* C_Digest */
		(void *)podpis_not_supported, /* C_DigestUpdate */
		(void *)podpis_not_supported, /* C_DigestKey */
		(void *)podpis_not_supported, /* C_DigestFinal */
		(void *)C_SignInit, /* C_SignInit */
		(void *)C_Sign, /* C_Sign */
		(void *)C_SignUpdate, /* C_SignUpdate */
		(void *)C_SignFinal, /* C_SignFinal */
		(void *)podpis_not_supported, /* C_SignRecoverInit */
		(void *)podpis_not_supported, /* C_SignRecover */
		(void *)podpis_not_supported, /* C_VerifyInit */
		(void *)podpis_not_supported, /* C_Verify */
		(void *)podpis_not_supported, /* C_VerifyUpdate */
		(void *)podpis_not_supported, /* C_VerifyFinal */
		(void *)podpis_not_supported, /* C_VerifyRecoverInit */
		(void *)podpis_not_supported, /* C_VerifyRecover */
		(void *)podpis_not_supported, /* C_DigestEncryptUpdate */
		(void *)podpis_not_supported, /* C_DecryptDigestUpdate */
		(void *)podpis_not_supported, /* C_SignEncryptUpdate */
		(void *)podpis_not_supported, /* C_DecryptVerifyUpdate */
		(void *)podpis_not_supported, /* C_GenerateKey */
		(void *)podpis_not_supported, /* C_GenerateKeyPair */
		(void *)podpis_not_supported, /* C_WrapKey */
		(void *)podpis_not_supported, /* C_UnwrapKey */
		(void *)podpis_not_supported, /* C_DeriveKey */
		(void *)C_SeedRandom, /* C_SeedRandom */
		(void *)C_GenerateRandom, /* C_GenerateRandom */
		(void *)podpis_not_supported, /* C_GetFunctionStatus */
		(void *)podpis_not_supported, /* C_CancelFunction */
		(void *)podpis_not_supported, /* C_WaitForSlotEvent */
	},
};
