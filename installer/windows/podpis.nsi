; podpis for Windows: a per-user installer (no administrator rights, no
; system service: a service in session 0 can show neither the tray icon
; nor the PIN dialog). Built on Linux with makensis by make package:
;   makensis -DVERSION=... -DBIN=... -DOUTFILE=... installer/windows/podpis.nsi
; A 64-bit installer: what it installs runs on 64-bit Windows only, and
; a 32-bit installer needs WoW64, which Debian's 64-bit-only Wine (where
; the Windows suite runs it) does not have.
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel user

!include "MUI2.nsh"

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\podpis"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"

Name "podpis"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\podpis"
BrandingText "podpis ${VERSION}"
VIProductVersion "0.0.0.0"
VIAddVersionKey /LANG=1049 "ProductName" "podpis"
VIAddVersionKey /LANG=1049 "FileDescription" "Установка podpis"
VIAddVersionKey /LANG=1049 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1049 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1049 "LegalCopyright" "podpis developers"

!define MUI_ICON "${BIN}\podpis.ico"
!define MUI_UNICON "${BIN}\podpis.ico"
!define MUI_FINISHPAGE_RUN "$INSTDIR\podpis.exe"
!define MUI_FINISHPAGE_RUN_PARAMETERS "run"
!define MUI_FINISHPAGE_RUN_TEXT "Запустить podpis"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "Russian"

; StopAgent ends this person's running agent. taskkill first asks
; (WM_CLOSE to the process's top-level windows); an agent without one —
; headless, or only in the tray — does not get it, and taskkill /F then
; ends it. Without administrator rights taskkill reaches this person's
; processes only.
!macro StopAgent
  nsExec::Exec 'taskkill /IM podpis.exe'
  nsExec::Exec 'taskkill /IM podpis-ui.exe'
  Sleep 500
  nsExec::Exec 'taskkill /F /IM podpis.exe'
  Sleep 500
!macroend

Section "podpis"
  ; An agent of the previous version holds its files open.
  !insertmacro StopAgent
  SetOutPath "$INSTDIR"
  File "${BIN}\podpis.exe"
  File "${BIN}\podpis-ui.exe"
  ; Earlier versions installed the demo soft token for everyone.
  Delete "$INSTDIR\podpis-softtoken.dll"
  File "${BIN}\podpis.ico"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\podpis.lnk" "$INSTDIR\podpis.exe" "run" "$INSTDIR\podpis.ico"
  ; Per-user logon start, what «Автозапуск» in the tray menu turns off.
  WriteRegStr HKCU "${RUN_KEY}" "podpis" '"$INSTDIR\podpis.exe" run --autostart'

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "podpis"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "podpis developers"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\podpis.ico"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1

  ; The local CA into the user's Root store: Windows asks the person to
  ; confirm, which is the point.
  ExecWait '"$INSTDIR\podpis.exe" install'
SectionEnd

Section "Uninstall"
  !insertmacro StopAgent
  ; Takes the CA out of exactly the stores install put it in.
  ExecWait '"$INSTDIR\podpis.exe" uninstall'
  DeleteRegValue HKCU "${RUN_KEY}" "podpis"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  Delete "$SMPROGRAMS\podpis.lnk"
  Delete "$INSTDIR\podpis.exe"
  Delete "$INSTDIR\podpis-ui.exe"
  Delete "$INSTDIR\podpis-softtoken.dll"
  Delete "$INSTDIR\podpis.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  ; The agent's own files (os.UserConfigDir and os.UserCacheDir): the
  ; local CA and the wss certificate with its key (the CA has just left
  ; the Root store), the lock, the first-run marker, the prompt files and
  ; the log. The person's settings (config.json) and the doctor reports
  ; they saved stay, and with them the folder; a soft token's keys are
  ; never here (%USERPROFILE%\.podpis).
  Delete "$APPDATA\podpis\localca.pem"
  Delete "$APPDATA\podpis\server.pem"
  Delete "$APPDATA\podpis\server.key"
  Delete "$APPDATA\podpis\agent.lock"
  Delete "$APPDATA\podpis\setup.done"
  RMDir /r "$APPDATA\podpis\prompts"
  RMDir "$APPDATA\podpis"
  Delete "$LOCALAPPDATA\podpis\podpis.log*"
  RMDir "$LOCALAPPDATA\podpis"
SectionEnd
