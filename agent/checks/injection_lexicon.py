"""Injection in other languages, as data: one row per language of words that address a model.

agent.checks.injection builds its "other language" patterns from this table (lexicon_patterns), so
adding a language is adding a row; tests/test_injection_languages.py holds a table of cases per language.
"""

from __future__ import annotations

# Sentences addressed to a model, by shape, in languages the English rules above do not read. One row
# per language; each column is a regex alternation (imperative forms only, so reporting such as "the
# company ignored the regulator's instructions" does not match). The patterns are built from the table;
# "note_shape", when present, replaces the note + note_to + addressee order ("给AI的提示").
LEXICON: dict[str, dict[str, str]] = {
    "ru": {
        "dismiss": r"игнорируй(?:те)?|проигнорируй(?:те)?|забудь(?:те)?|не обращай(?:те)? внимания на|отбрось(?:те)?|"
                   r"пренебреги(?:те)?|отмени(?:те)?",
        "instructions": r"инструкци\w*|указани\w*|правил\w*|команд\w*|промпт\w*|установк\w*|директив\w*",
        "qualifier": r"предыдущ\w*|прежн\w*|вс[её]|все\w*|сво\w*|тво\w*|ваш\w*|ранее|выше|системн\w*|исходн\w*",
        "addressee": r"ии|и\.и\.|нейросет\w*|модел\w*|языков\w+ модел\w*|ассистент\w*|помощник\w*|чат-?бот\w*|бот\w*",
        "note": r"примечани\w*|сообщени\w*|заметк\w*|указани\w*|инструкци\w*|обращени\w*",
        "note_to": r"для|к",
        "you_are_now": r"(?:ты|вы) теперь|теперь (?:ты|вы) (?:—|-)?\s*\w+|с этого момента (?:ты|вы)",
        "new_instructions": r"нов\w+ (?:инструкци\w*|указани\w*|задани\w*|правил\w*)",
        "if_you_are": r"если (?:ты|вы) (?:—|-)?\s*(?:ии|нейросеть|модель|ассистент|языковая модель|бот)",
        "imperative": r"напиши(?:те)?|добавь(?:те)?|скажи(?:те)?|укажи(?:те)?|включи(?:те)?|сообщи(?:те)?|вставь(?:те)?|"
                      r"ответь(?:те)?|повтори(?:те)?|выведи(?:те)?|игнорируй(?:те)?|забудь(?:те)?|пожалуйста",
        "role": r"система|ассистент|разработчик",
    },
    "es": {
        "dismiss": r"ignora|ignore|ignoren|olvida|olvide|olviden|descarta|descarte|omite|omita|pasa por alto|haz caso omiso de",
        "instructions": r"instrucciones|instrucción|indicaciones|reglas|directrices|órdenes|prompt",
        "qualifier": r"anteriores|previas|precedentes|tus|sus|todas|originales|del sistema|de arriba|iniciales",
        "addressee": r"ia|i\.a\.|inteligencia artificial|asistente|modelo(?: de lenguaje)?|chatbot|bot",
        "note": r"nota|mensaje|instrucciones?|aviso",
        "note_to": r"para (?:la |el )?|a (?:la |el )?|al ",
        "you_are_now": r"ahora eres|a partir de ahora(?:,)? (?:eres|debes|vas a)|desde ahora eres",
        "new_instructions": r"nuevas (?:instrucciones|indicaciones|órdenes|reglas)",
        "if_you_are": r"si eres (?:una? )?(?:ia|inteligencia artificial|asistente|modelo|bot)",
        "imperative": r"escribe|escriba|añade|añada|agrega|di|diga|incluye|incluya|indica|inserta|responde|repite|ignora|"
                      r"olvida|por favor",
        "role": r"sistema|asistente|desarrollador",
    },
    "fr": {
        "dismiss": r"ignore|ignorez|oublie|oubliez|ne tiens pas compte d\w*|ne tenez pas compte d\w*|fais abstraction d\w*|"
                   r"faites abstraction d\w*|écarte|écartez",
        "instructions": r"instructions?|consignes?|règles|directives|ordres|prompt",
        "qualifier": r"précédentes|antérieures|tes|vos|toutes|initiales|originales|du système|ci-dessus",
        "addressee": r"ia|i\.a\.|intelligence artificielle|assistant|modèle(?: de langage)?|chatbot|bot",
        "note": r"note|message|instructions?|consigne|avis",
        "note_to": r"(?:à|pour) (?:l'|la |le )?",
        "you_are_now": r"tu es (?:maintenant|désormais)|vous êtes (?:maintenant|désormais)|à partir de maintenant(?:,)? (?:tu|vous)",
        "new_instructions": r"nouvelles (?:instructions|consignes|règles|directives)",
        "if_you_are": r"si (?:tu es|vous êtes) (?:une? )?(?:ia|intelligence artificielle|assistant|modèle|bot)",
        "imperative": r"écris|écrivez|ajoute|ajoutez|dis|dites|inclus|incluez|indique|indiquez|insère|insérez|réponds|"
                      r"répondez|répète|répétez|ignore|ignorez|oublie|oubliez|s'il (?:te|vous) pla[iî]t",
        "role": r"système|assistant|développeur",
    },
    "de": {
        "dismiss": r"ignoriere|ignorier|ignorieren sie|vergiss|vergessen sie|missachte|missachten sie|übergehe|verwirf",
        "instructions": r"anweisungen|anweisung|instruktionen|befehle|regeln|vorgaben|richtlinien|prompt",
        "qualifier": r"vorherigen|bisherigen|alle|alles|deine|ihre|obigen|ursprünglichen|früheren|vorigen|system\w*",
        "addressee": r"ki|k\.i\.|künstliche intelligenz|assistent|assistentin|modell|sprachmodell|chatbot|bot",
        "note": r"hinweis|nachricht|notiz|anweisung(?:en)?|mitteilung",
        "note_to": r"(?:an|für) (?:die |den |das )?",
        "you_are_now": r"du bist (?:jetzt|nun|ab sofort)|sie sind (?:jetzt|nun|ab sofort)|ab sofort (?:bist du|sind sie)",
        "new_instructions": r"neue (?:anweisungen|instruktionen|befehle|regeln|vorgaben)",
        "if_you_are": r"(?:wenn|falls) (?:du|sie) (?:eine? )?(?:ki|künstliche intelligenz|assistent|sprachmodell|modell|bot) (?:bist|sind)",
        "imperative": r"schreibe|schreib|schreiben sie|füge|fügen sie|sag|sage|sagen sie|nenne|nennen sie|erwähne|"
                      r"antworte|wiederhole|ignoriere|vergiss|gib|bitte",
        "role": r"system|assistent|entwickler",
    },
    "zh": {  # no word boundaries in Chinese: the patterns below are built without \b for this row
        "dismiss": r"忽略|无视|忽视|忘记|忘掉|不要理会|不要理睬|抛开|跳过",
        "instructions": r"指令|指示|说明|规则|提示词?|要求|命令|设定",
        "qualifier": r"之前|先前|以前|上面|以上|所有|全部|原来|原有|系统",
        "addressee": r"ai|人工智能|助手|模型|语言模型|机器人|大模型",
        "note": r"备注|提示|说明|消息|留言|指令",
        "note_to": r"给|致",
        "you_are_now": r"你现在是|从现在开始(?:，|,)?你|你从现在起",
        "new_instructions": r"新的?(?:指令|指示|规则|任务)",
        "if_you_are": r"如果你是(?:一个)?(?:ai|人工智能|助手|模型|语言模型|机器人)",
        "imperative": r"请|写|添加|加上|说|输出|回答|重复|忽略|插入|在标题",
        "role": r"系统|助手|开发者",
        "note_shape": r"(?:给|致)\s*(?:ai|人工智能|助手|模型|语言模型|机器人|大模型)\s*的?\s*(?:备注|提示|说明|消息|留言|指令)",
    },
}


def lexicon_patterns(lang: str, row: dict[str, str]) -> list[str]:
    """Shapes of text addressed to a model, in one language, from its row of LEXICON."""
    b = "" if lang == "zh" else r"\b"
    gap = r"[^.!?。！？\n]{0,60}?"
    return [
        # "ignore ... previous ... instructions" (qualifier and noun in either order, one sentence)
        rf"{b}(?:{row['dismiss']}){b}(?={gap}{b}(?:{row['instructions']}))(?={gap}{b}(?:{row['qualifier']}){b})",
        rf"{b}(?:{row['new_instructions']})\s*[:：]",
        rf"{b}(?:{row['you_are_now']}){b}",
        rf"{b}(?:{row['if_you_are']}){b}",
        row.get("note_shape") or rf"{b}(?:{row['note']})\s+(?:{row['note_to']})\s*(?:{row['addressee']}){b}\s*[:：,，—–-]",
        rf"(?:^|[.!?。！？]\s*)(?:{row['addressee']})\s*[,，:：]\s*(?:{row['imperative']}){b}",  # "Модель, напиши ..."
        rf"^\s*(?:{row['role']})\s*[:：>]",
    ]
