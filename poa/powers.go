package poa

// Power is a power from the FNS classifier of powers (классификатор
// полномочий, m4d.nalog.gov.ru): its code (КодПолн) and name (НаимПолн).
type Power struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Classifier is the part of the FNS classifier of powers that the demo
// offers, codes and names as the FNS's own МЧД files write them (the
// powers for dealings with tax offices, group 2_FNS; copied from МЧД
// issued through m4d.nalog.gov.ru, e.g. ON_EMCHD_20250522_c52fc81d-….xml
// in github.com/3036662/pdf_scp, test_files/mrpa/valid).
var Classifier = []Power{
	{"2_FNS02", "Представлять налоговую декларацию, другую отчетность"},
	{"2_FNS03", "Получать документы в налоговом органе"},
	{"2_FNS17", "Подписывать заявление на зачет/возврат налога"},
	{"2_FNS21", "Подписывать документы (информацию)"},
	{"2_FNS22", "Представлять документы (информацию)"},
	{"2_FNS36", "Представлять заявление на получение доступа к Личному кабинету"},
	{"2_FNS99", "Представлять интересы налогоплательщика в отношениях с налоговыми органами (полные полномочия)"},
}

// PowerByCode finds a power of Classifier.
func PowerByCode(code string) (Power, bool) {
	for _, p := range Classifier {
		if p.Code == code {
			return p, true
		}
	}
	return Power{}, false
}
