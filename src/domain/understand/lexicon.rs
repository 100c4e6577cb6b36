//! The words the parser looks for, in English and Italian. Every entry is
//! written lower-case and without accents: the text is folded the same way
//! before matching (see [`super::words::fold`]).

/// Someone says it is urgent.
pub(super) const URGENT: &[&str] = &[
    "urgent",
    "urgently",
    "asap",
    "as soon as possible",
    "critical",
    "emergency",
    "high priority",
    "immediately",
    "right away",
    "urgente",
    "urgenti",
    "urgentemente",
    "subito",
    "critico",
    "critica",
    "emergenza",
    "priorita alta",
    "alta priorita",
    "al piu presto",
    "il prima possibile",
    "prima possibile",
    "urgentissimo",
    "urgentissima",
];

/// Something is broken or stops people working.
pub(super) const OUTAGE: &[&str] = &[
    "down",
    "outage",
    "offline",
    "nobody can work",
    "no one can work",
    "not working",
    "stopped working",
    "doesn t work",
    "does not work",
    "don t work",
    "can t work",
    "cannot work",
    "bloccato",
    "bloccata",
    "bloccati",
    "bloccate",
    "non funziona",
    "non funzionano",
    "non va",
    "fermo",
    "ferma",
    "fermi",
    "in tilt",
    "disservizio",
    "no internet",
    "no connection",
    "senza internet",
    "niente internet",
    "nessuna connessione",
    "won t turn on",
    "won t start",
    "won t boot",
    "non si accende",
    "e giu",
    "sono giu",
    "giu",
    "non arriva",
    "non arrivano",
    "non carica",
    "not loading",
    "non risponde",
    "not responding",
    "senza rete",
    "senza connessione",
    "no network",
    "lost internet",
    "lost wifi",
    "lost network",
    "lost power",
    "lost connection",
    "non prende chiamate",
    "not taking calls",
    "takes no calls",
    "non si apre",
    "can t connect",
    "cannot connect",
    "non si collega",
    "non riesce a collegarsi",
    "riesce a collegarsi",
];
/// Nothing works at all: an outage of everything (P1).
pub(super) const NOTHING: &[&str] = &[
    "nothing works",
    "nothing is working",
    "nothing working",
    "everything is down",
    "everything down",
    "non funziona niente",
    "non funziona nulla",
    "non funziona piu niente",
    "non funziona piu nulla",
    "non va niente",
    "non va nulla",
    "niente funziona",
    "nulla funziona",
    "tutto fermo",
    "tutto bloccato",
    "tutto giu",
];
/// The company's customers are hit (P1).
pub(super) const CUSTOMERS: &[&str] = &[
    "customers can t",
    "customers cannot",
    "customers cant",
    "customers affected",
    "customers complaining",
    "customers are waiting",
    "customers waiting",
    "clienti non riescono",
    "clienti non possono",
    "clienti aspettano",
    "clienti bloccati",
    "perdiamo ordini",
    "perdendo ordini",
    "losing orders",
    "can t place orders",
    "cant place orders",
    "checkout",
];
/// A security incident under way (P1), not a suspicion.
pub(super) const INCIDENT: &[&str] = &[
    "ransomware",
    "cryptolocker",
    "criptati",
    "crittografati",
    "encrypted",
    "ransom",
    "riscatto",
    "attacco hacker",
    "attacco informatico",
    "cyber attack",
    "cyberattack",
    "under attack",
    "data breach",
    "data leak",
    "fuga di dati",
    "intrusione",
];
/// A risk to people or the premises (P1).
pub(super) const SAFETY: &[&str] = &[
    "smoke",
    "fumo",
    "fire",
    "incendio",
    "fiamme",
    "flames",
    "sparks",
    "scintille",
    "burning smell",
    "odore di bruciato",
    "water leak",
    "leaking",
    "allagata",
    "allagato",
    "allagamento",
    "flooded",
    "electric shock",
    "scossa",
    "cavi scoperti",
    "exposed wires",
];
/// Places that, as the subject of an outage, are a whole site
/// (`la filiale è offline`), not where a device is (`in the warehouse`).
pub(super) const SITES: &[&str] = &[
    "filiale",
    "filiali",
    "sede",
    "sedi",
    "branch",
    "site",
    "stabilimento",
    "plant",
    "magazzino",
    "warehouse",
    "negozio",
    "negozi",
    "store",
    "stores",
];
/// Words before a place that make it where something is, not the subject.
pub(super) const PLACE_PREPOSITIONS: &[&str] = &[
    "in", "at", "del", "della", "dello", "dei", "delle", "nel", "nella", "nello", "al", "alla",
    "dal", "dalla", "on", "of", "sul", "sulla", "per", "for", "from", "to", "di",
];
/// Articles skipped before a place (`in the warehouse`).
pub(super) const ARTICLES: &[&str] = &["the", "a", "la", "il", "lo", "l", "le", "i", "gli"];
/// Wide scope phrases that say nobody can do something (P2 without an
/// outage word: `nobody can print`).
pub(super) const NOBODY_CAN: &[&str] = &[
    "nobody",
    "no one can",
    "nessuno",
    "nessuno riesce",
    "nessuno puo",
    "nessuno di noi",
];

/// Words that make `down` mean something else (`shut down`, `slow down`).
pub(super) const NOT_AN_OUTAGE_BEFORE_DOWN: &[&str] = &[
    "shut", "slow", "turn", "calm", "step", "write", "note", "scale", "wind", "cut", "track",
    "narrow", "break",
];

/// Someone says it can wait.
pub(super) const CALM: &[&str] = &[
    "not urgent",
    "not that urgent",
    "isn t urgent",
    "no rush",
    "no hurry",
    "when you can",
    "when you have time",
    "whenever you can",
    "low priority",
    "non urgente",
    "non e urgente",
    "niente di urgente",
    "nulla di urgente",
    "nothing urgent",
    "nessuna fretta",
    "senza fretta",
    "con calma",
    "quando potete",
    "quando riuscite",
    "quando avete tempo",
    "bassa priorita",
    "priorita bassa",
];

/// Words that, just before an urgency cue, turn it around (`non urgente`).
pub(super) const NEGATORS: &[&str] = &[
    "not", "non", "no", "isn", "aren", "wasn", "nothing", "niente", "nulla",
];

/// The problem hits a whole office or everyone.
pub(super) const WIDE: &[&str] = &[
    "whole office",
    "entire office",
    "whole site",
    "entire site",
    "whole branch",
    "entire branch",
    "whole warehouse",
    "entire warehouse",
    "whole plant",
    "entire plant",
    "all stores",
    "all sites",
    "all offices",
    "all plants",
    "all branches",
    "tutta la filiale",
    "intera filiale",
    "tutto il magazzino",
    "intero magazzino",
    "tutto lo stabilimento",
    "intero stabilimento",
    "tutti i negozi",
    "tutti gli uffici",
    "tutte le sedi",
    "tutte le filiali",
    "whole company",
    "entire company",
    "whole team",
    "whole floor",
    "whole building",
    "everyone",
    "everybody",
    "all users",
    "all staff",
    "all employees",
    "all of us",
    "nobody",
    "no one can",
    "tutto l ufficio",
    "tutto l edificio",
    "tutto il piano",
    "tutto il reparto",
    "tutta l azienda",
    "tutta la sede",
    "tutta l amministrazione",
    "intero ufficio",
    "intera azienda",
    "tutti",
    "tutte",
    "tutti gli utenti",
    "nessuno",
    "nessuno riesce",
    "nessuno puo",
    "nessuno di noi",
];

/// Words before `tutti`/`everyone` that make it a greeting, not a scope.
pub(super) const GREETING_BEFORE_ALL: &[&str] = &[
    "a", "hi", "hello", "hey", "morning", "ciao", "thanks", "thank", "grazie", "salve",
];

/// Possessives: `my laptop`, `il mio pc`.
pub(super) const MY: &[&str] = &["my", "mio", "mia", "miei", "mie"];

/// Words after a possessive that still mean a group (`my team`).
pub(super) const GROUP_NOUNS: &[&str] = &[
    "team",
    "office",
    "department",
    "colleagues",
    "company",
    "whole",
    "entire",
    "floor",
    "staff",
    "ufficio",
    "reparto",
    "squadra",
    "colleghi",
    "colleghe",
    "azienda",
    "sede",
    "gruppo",
    "intero",
    "intera",
];

/// One person only, without a possessive.
pub(super) const SINGLE: &[&str] = &[
    "only me",
    "just me",
    "only for me",
    "just for me",
    "for me only",
    "me only",
    "i can t",
    "i cannot",
    "solo a me",
    "solo io",
    "solo per me",
    "non riesco",
];

/// The requester wants the MSP.
pub(super) const TO_MSP: &[&str] = &[
    "for the msp",
    "to the msp",
    "ask the msp",
    "the msp should",
    "msp please",
    "ask the provider",
    "for the provider",
    "the provider should",
    "per l msp",
    "per il msp",
    "all msp",
    "al msp",
    "l msp deve",
    "al fornitore",
    "per il fornitore",
    "il fornitore deve",
];

/// The requester wants the company's own IT.
pub(super) const TO_INTERNAL: &[&str] = &[
    "internal it",
    "our it",
    "our own it",
    "in house it",
    "it interno",
    "it interna",
    "il nostro it",
    "nostro it",
    "nostri tecnici",
];

/// Greetings and politeness stripped from the ends of a title.
pub(super) const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "good morning",
    "good afternoon",
    "ciao",
    "buongiorno",
    "buonasera",
    "buon pomeriggio",
    "salve",
];

/// Who a greeting addresses: stripped right after a greeting.
pub(super) const ADDRESSEES: &[&str] = &[
    "all", "everyone", "team", "guys", "folks", "a tutti", "ragazzi", "tutti",
];

/// Politeness stripped from the ends of a title.
pub(super) const POLITE: &[&str] = &[
    "please",
    "pls",
    "plz",
    "per favore",
    "per piacere",
    "grazie",
    "thanks",
    "thank you",
];

/// Urgency words stripped from the ends of a title (they are the priority's
/// business, not the title's).
pub(super) const TITLE_CUES: &[&str] = &[
    "urgent",
    "urgente",
    "asap",
    "subito",
    "critical",
    "critico",
    "emergency",
    "emergenza",
    "help",
    "aiuto",
];

/// Folded text words that are never taken for a typo of a cue word: they are
/// common words one letter away from one (`tutto` is not `tutti`).
pub(super) const NEVER_FUZZY: &[&str] = &[
    "tutto", "nessuna", "entra", "domain", "floor", "random", "stare", "score", "fumi", "sito",
];

pub(super) const WEEKDAYS: &[(&str, jiff::civil::Weekday)] = {
    use jiff::civil::Weekday::*;
    &[
        ("monday", Monday),
        ("tuesday", Tuesday),
        ("wednesday", Wednesday),
        ("thursday", Thursday),
        ("friday", Friday),
        ("saturday", Saturday),
        ("sunday", Sunday),
        ("mon", Monday),
        ("tue", Tuesday),
        ("tues", Tuesday),
        ("wed", Wednesday),
        ("thu", Thursday),
        ("thur", Thursday),
        ("thurs", Thursday),
        ("fri", Friday),
        ("lunedi", Monday),
        ("martedi", Tuesday),
        ("mercoledi", Wednesday),
        ("giovedi", Thursday),
        ("venerdi", Friday),
        ("sabato", Saturday),
        ("domenica", Sunday),
        ("lun", Monday),
        ("mer", Wednesday),
        ("gio", Thursday),
        ("ven", Friday),
    ]
};

/// Words before a weekday that make it the past (`since Monday`).
pub(super) const PAST_BEFORE_WEEKDAY: &[&str] = &[
    "since", "from", "last", "da", "dal", "dalla", "scorso", "scorsa",
];

/// Words after a weekday that make it the past (`lunedi scorso`).
pub(super) const PAST_AFTER_WEEKDAY: &[&str] = &["scorso", "scorsa", "passato", "passata"];

pub(super) const MONTHS: &[(&str, i8)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    ("gennaio", 1),
    ("febbraio", 2),
    ("marzo", 3),
    ("aprile", 4),
    ("maggio", 5),
    ("giugno", 6),
    ("luglio", 7),
    ("agosto", 8),
    ("settembre", 9),
    ("ottobre", 10),
    ("novembre", 11),
    ("dicembre", 12),
    ("gen", 1),
    ("mag", 5),
    ("giu", 6),
    ("lug", 7),
    ("ago", 8),
    ("ott", 10),
    ("dic", 12),
];

/// Words that introduce a due time; kept in the phrase a reason quotes.
pub(super) const DUE_LEADS: &[&str] = &[
    "by", "before", "until", "till", "on", "for", "entro", "per", "prima", "di", "il", "la", "le",
    "this", "next", "questo", "questa",
];
