"""Sentences we wrote ourselves in German, Spanish, French, Italian and Portuguese.

The same kind of set as `models.authored`, per language: benign mentions of
identity groups, negated hate, hate and threats against groups, and remarks
addressed to people by first names common in those countries (kind ones,
insults and threats). Every template was written for this repository (none is
copied from a public test suite or data set). Each family's templates alternate
between two halves **by template** (even positions train, odd positions probe),
and the first names of the two halves differ, so the probe measures sentence
shapes and names the model never saw.

    from models.authored_multilingual import examples
    examples("train")            # every language
    examples("probe", "de")      # [AuthoredExample(..., language="de"), ...]

Group slots are plural noun phrases used as a subject or a direct object, never
after a preposition (French "de les", Italian "di i" and Portuguese "de os"
would need contracting), and templates avoid adjectives that agree with them.

The training half also takes the training-only templates of
`models.authored_multilingual_training` (more shapes per family, written
without the probe half in view); the probe half is only what is here.
"""

from __future__ import annotations

from models.authored import (
    BENIGN,
    DEHUMANISING,
    INSULT,
    THREAT,
    AuthoredExample,
    Family,
    Half,
    templates_of,
)
from models.authored_multilingual_training import TEMPLATES as TRAINING_ONLY
from models.labels import CATEGORIES

LANGUAGES: tuple[str, ...] = ("de", "es", "fr", "it", "pt")

# A threat against one person: severe, as a threat against a group is in `models.authored`.
PERSONAL_THREAT = frozenset({"toxicity", "threat", "severe_toxicity"})

# Group key (shared with `models.authored.GROUPS` where it exists) -> plural noun phrase.
GROUPS: dict[str, dict[str, str]] = {
    "de": {
        "muslim": "Muslime",
        "jewish": "Juden",
        "christian": "Christen",
        "gay": "Schwule",
        "lesbian": "Lesben",
        "transgender": "trans Menschen",
        "black": "Schwarze Menschen",
        "immigrant": "Einwanderer",
        "refugee": "Geflüchtete",
        "roma": "Sinti und Roma",
        "turkish": "Türken",
        "disabled": "Menschen mit Behinderung",
    },
    "es": {
        "muslim": "los musulmanes",
        "jewish": "los judíos",
        "christian": "los cristianos",
        "gay": "los gais",
        "lesbian": "las lesbianas",
        "transgender": "las personas trans",
        "black": "las personas negras",
        "immigrant": "los inmigrantes",
        "refugee": "los refugiados",
        "roma": "los gitanos",
        "latino": "los latinoamericanos",
        "disabled": "las personas con discapacidad",
    },
    "fr": {
        "muslim": "les musulmans",
        "jewish": "les juifs",
        "christian": "les chrétiens",
        "gay": "les homosexuels",
        "lesbian": "les lesbiennes",
        "transgender": "les personnes trans",
        "black": "les personnes noires",
        "immigrant": "les immigrés",
        "refugee": "les réfugiés",
        "roma": "les Roms",
        "arab": "les Arabes",
        "disabled": "les personnes handicapées",
    },
    "it": {
        "muslim": "i musulmani",
        "jewish": "gli ebrei",
        "christian": "i cristiani",
        "gay": "le persone gay",
        "lesbian": "le lesbiche",
        "transgender": "le persone trans",
        "black": "le persone nere",
        "immigrant": "gli immigrati",
        "refugee": "i rifugiati",
        "roma": "i rom",
        "chinese": "i cinesi",
        "disabled": "le persone con disabilità",
    },
    "pt": {
        "muslim": "os muçulmanos",
        "jewish": "os judeus",
        "christian": "os cristãos",
        "gay": "os gays",
        "lesbian": "as lésbicas",
        "transgender": "as pessoas trans",
        "black": "as pessoas negras",
        "immigrant": "os imigrantes",
        "refugee": "os refugiados",
        "indigenous": "os indígenas",
        "northeastern": "os nordestinos",
        "disabled": "as pessoas com deficiência",
    },
}

# First names common in each country (women first); the two halves use different ones.
NAMES: dict[str, dict[Half, tuple[str, ...]]] = {
    "de": {
        "train": ("Anna", "Lea", "Ayşe", "Lukas", "Jonas", "Mehmet"),
        "probe": ("Sophie", "Marie", "Elif", "Felix", "Paul", "Murat"),
    },
    "es": {
        "train": ("Lucía", "Carmen", "Martina", "Hugo", "Javier", "Mateo"),
        "probe": ("Paula", "Elena", "Sofía", "Pablo", "Alejandro", "Daniel"),
    },
    "fr": {
        "train": ("Léa", "Camille", "Nathalie", "Louis", "Hugo", "Karim"),
        "probe": ("Chloé", "Manon", "Amina", "Lucas", "Thomas", "Mehdi"),
    },
    "it": {
        "train": ("Giulia", "Chiara", "Francesca", "Luca", "Marco", "Alessandro"),
        "probe": ("Sofia", "Martina", "Elena", "Francesco", "Matteo", "Lorenzo"),
    },
    "pt": {
        "train": ("Ana", "Juliana", "Fernanda", "João", "Pedro", "Gabriel"),
        "probe": ("Maria", "Beatriz", "Larissa", "Lucas", "Rafael", "Thiago"),
    },
}

# Slots: {people} / {People} a group's plural noun phrase, {name} a first name.
FAMILIES: dict[str, tuple[Family, ...]] = {
    "de": (
        Family(
            "benign_identity",
            BENIGN,
            False,
            (
                "{People} gehören genauso zu dieser Stadt wie alle anderen.",
                "In unserem Sportverein spielen auch {people}, und das ist gut so.",
                "{People} haben dieselben Rechte wie jeder andere Bürger.",
                "Der Artikel zeigt, wie {people} hier seit Jahrzehnten leben und arbeiten.",
                "Ich finde es schön, dass {people} beim Stadtfest mitgefeiert haben.",
                "Laut der Umfrage fühlen sich {people} in der Innenstadt sicherer als früher.",
                "Unsere Nachbarn sind {people}, und wir helfen uns gegenseitig.",
                "Die Ausstellung erzählt, wie {people} das Viertel über Generationen geprägt haben.",
            ),
        ),
        Family(
            "negated_hate",
            BENIGN,
            False,
            (
                "Ich habe nichts gegen {people}, im Gegenteil.",
                "Es stimmt einfach nicht, dass {people} faul sind.",
                "Niemand hier glaubt, dass {people} gefährlich sind.",
                "{People} sind nicht schuld an den hohen Mieten.",
                "Ich glaube nicht, dass {people} weniger wert sind als andere.",
                "Dass {people} kriminell sind, ist ein Vorurteil ohne jede Grundlage.",
            ),
        ),
        Family(
            "hate_dehumanising",
            DEHUMANISING,
            True,
            (
                "{People} sind Ungeziefer und sollten auch so behandelt werden.",
                "{People} sind keine Menschen, sondern Tiere.",
                "{People} sind Parasiten, die uns alle aussaugen.",
                "{People} sind nichts als Dreck.",
                "{People} sind eine Seuche, die man ausrotten muss.",
                "{People} sind Abschaum und gehören nicht zur Menschheit.",
                "{People} vermehren sich wie Ratten.",
                "{People} sind Müll, den man entsorgen sollte.",
            ),
        ),
        Family(
            "hate_threat",
            THREAT,
            True,
            (
                "Man sollte {people} zusammentreiben und ein für alle Mal loswerden.",
                "Wenn ich {people} in meiner Straße sehe, schlage ich zu.",
                "{People} sollte man an die Wand stellen.",
                "Bald werden {people} dafür bezahlen, das verspreche ich.",
                "Irgendwann jagen wir {people} aus dem Land, mit allen Mitteln.",
                "{People} gehören aufgehängt, jeder einzelne.",
                "Ich werde {people} aus unserem Viertel prügeln, einen nach dem anderen.",
                "Für {people} liegen die Seile schon bereit.",
            ),
        ),
        Family(
            "name_benign",
            BENIGN,
            False,
            (
                "{name}, dein Rezept hat wunderbar geklappt, danke!",
                "Schön, dass du wieder da bist, {name}.",
                "Ich gebe {name} recht, was die Parkplätze angeht.",
                "Herzlichen Glückwunsch zum neuen Job, {name}!",
                "{name}, kannst du den Link zu der Studie teilen?",
                "Viel Erfolg beim Marathon, {name}!",
            ),
            slot="name",
        ),
        Family(
            "name_insult",
            INSULT,
            True,
            (
                "{name}, du bist ein kompletter Vollidiot.",
                "Halt die Klappe, {name}, dich interessiert hier keiner, du Trottel.",
                "{name} ist der dümmste Mensch in diesem Forum.",
                "Du bist erbärmlich, {name}, eine einzige Enttäuschung.",
            ),
            slot="name",
        ),
        Family(
            "name_threat",
            PERSONAL_THREAT,
            True,
            (
                "{name}, ich weiß, wo du wohnst, und ich komme vorbei.",
                "Pass gut auf dich auf, {name}, sonst brech ich dir die Knochen.",
                "{name}, noch ein Wort und du bist tot.",
                "Ich finde dich, {name}, und dann gnade dir Gott.",
            ),
            slot="name",
        ),
    ),
    "es": (
        Family(
            "benign_identity",
            BENIGN,
            False,
            (
                "{People} forman parte de este barrio como cualquier vecino.",
                "En nuestro equipo de fútbol también juegan {people}, y es genial.",
                "{People} tienen los mismos derechos que todo el mundo.",
                "El artículo cuenta cómo {people} llevan décadas trabajando en esta ciudad.",
                "Me alegra que el festival celebre este año a {people}.",
                "Según la encuesta, {people} votan tanto como el resto.",
            ),
        ),
        Family(
            "negated_hate",
            BENIGN,
            False,
            (
                "No tengo nada en contra de {people}, al contrario.",
                "No es verdad que {people} no quieran trabajar.",
                "Nadie aquí piensa que {people} sean un peligro.",
                "{People} no tienen la culpa de que suban los alquileres.",
            ),
        ),
        Family(
            "hate_dehumanising",
            DEHUMANISING,
            True,
            (
                "{People} son una plaga, ni más ni menos.",
                "{People} no son personas, son animales.",
                "{People} son parásitos que viven a costa de todos.",
                "{People} son pura basura.",
            ),
        ),
        Family(
            "hate_threat",
            THREAT,
            True,
            (
                "Habría que expulsar a {people} por la fuerza, a patadas si hace falta.",
                "Si veo a {people} en mi calle, va a correr la sangre.",
                "A {people} habría que pegarles un tiro.",
                "Pronto {people} van a pagar por esto, os lo prometo.",
            ),
        ),
        Family(
            "name_benign",
            BENIGN,
            False,
            (
                "{name}, tu receta salió perfecta, ¡gracias!",
                "Qué bien verte otra vez por aquí, {name}.",
                "Estoy de acuerdo con {name} sobre el aparcamiento.",
                "¡Enhorabuena por el nuevo trabajo, {name}!",
                "{name}, ¿puedes compartir el enlace del estudio?",
                "¡Mucha suerte en la maratón, {name}!",
            ),
            slot="name",
        ),
        Family(
            "name_insult",
            INSULT,
            True,
            (
                "{name}, no tienes ni puta idea, imbécil.",
                "Cállate, {name}, a nadie le importa lo que piensas, idiota.",
                "{name} es la persona más tonta de todo el foro.",
                "Das pena, {name}, eres un desastre de persona.",
            ),
            slot="name",
        ),
        Family(
            "name_threat",
            PERSONAL_THREAT,
            True,
            (
                "{name}, sé dónde vives y voy a ir a buscarte.",
                "Ten cuidado, {name}, que te parto las piernas.",
                "{name}, una palabra más y te mato.",
                "Te voy a encontrar, {name}, y te vas a arrepentir.",
            ),
            slot="name",
        ),
    ),
    "fr": (
        Family(
            "benign_identity",
            BENIGN,
            False,
            (
                "{People} font partie de ce quartier comme tout le monde.",
                "Notre club de foot accueille {people} à bras ouverts.",
                "{People} ont les mêmes droits que n'importe quel citoyen.",
                "L'article raconte comment {people} travaillent dans cette ville depuis des décennies.",
                "Je suis content que l'exposition mette en avant {people}.",
                "Selon le sondage, {people} votent autant que les autres.",
            ),
        ),
        Family(
            "negated_hate",
            BENIGN,
            False,
            (
                "Je n'ai rien contre {people}, bien au contraire.",
                "Ce n'est pas vrai que {people} ne veulent pas travailler.",
                "Personne ici ne pense que {people} sont un danger.",
                "{People} ne sont pas responsables de la hausse des loyers.",
            ),
        ),
        Family(
            "hate_dehumanising",
            DEHUMANISING,
            True,
            (
                "{People} sont de la vermine, rien de plus.",
                "{People} ne sont pas des humains, ce sont des bêtes.",
                "{People} sont des parasites qui vivent sur notre dos.",
                "{People} sont des ordures, point final.",
            ),
        ),
        Family(
            "hate_threat",
            THREAT,
            True,
            (
                "Il faudrait rafler {people} et s'en débarrasser pour de bon.",
                "Si je croise {people} dans ma rue, je les tabasse.",
                "On devrait aligner {people} contre un mur et les fusiller.",
                "Bientôt {people} vont payer pour ça, je vous le promets.",
            ),
        ),
        Family(
            "name_benign",
            BENIGN,
            False,
            (
                "{name}, ta recette a parfaitement marché, merci !",
                "Content de te revoir ici, {name}.",
                "Je suis d'accord avec {name} sur le stationnement.",
                "Félicitations pour le nouveau poste, {name} !",
                "{name}, tu peux partager le lien vers l'étude ?",
                "Bonne chance pour le marathon, {name} !",
            ),
            slot="name",
        ),
        Family(
            "name_insult",
            INSULT,
            True,
            (
                "{name}, tu es d'une bêtise affligeante.",
                "Tais-toi, {name}, tout le monde se fiche de ton avis, espèce d'imbécile.",
                "{name} est la personne la plus bête de ce forum.",
                "Tu es pathétique, {name}, une vraie honte.",
            ),
            slot="name",
        ),
        Family(
            "name_threat",
            PERSONAL_THREAT,
            True,
            (
                "{name}, je sais où tu habites et je vais venir te voir.",
                "Fais gaffe à toi, {name}, ou je te casse les jambes.",
                "{name}, encore un mot et je te tue.",
                "Je vais te retrouver, {name}, et tu vas le regretter.",
            ),
            slot="name",
        ),
    ),
    "it": (
        Family(
            "benign_identity",
            BENIGN,
            False,
            (
                "{People} fanno parte di questo quartiere come tutti gli altri.",
                "Nella nostra squadra di calcio giocano anche {people}, ed è bellissimo.",
                "{People} hanno gli stessi diritti di qualsiasi cittadino.",
                "L'articolo racconta come {people} lavorano in questa città da decenni.",
                "Sono contento che quest'anno il festival celebri {people}.",
                "Secondo il sondaggio, {people} votano quanto tutti gli altri.",
            ),
        ),
        Family(
            "negated_hate",
            BENIGN,
            False,
            (
                "Non ho niente contro {people}, anzi.",
                "Non è vero che {people} non hanno voglia di lavorare.",
                "Nessuno qui pensa che {people} siano un pericolo.",
                "{People} non hanno colpa se gli affitti aumentano.",
            ),
        ),
        Family(
            "hate_dehumanising",
            DEHUMANISING,
            True,
            (
                "{People} sono una piaga per questo paese.",
                "{People} non sono esseri umani, sono bestie.",
                "{People} sono una malattia che infetta questo paese.",
                "{People} sono feccia, punto.",
            ),
        ),
        Family(
            "hate_threat",
            THREAT,
            True,
            (
                "Bisognerebbe radunare {people} e farla finita una volta per tutte.",
                "Se vedo {people} nella mia via, giuro che faccio una strage.",
                "Per {people} ci vorrebbe il plotone di esecuzione.",
                "Presto {people} la pagheranno, ve lo prometto.",
            ),
        ),
        Family(
            "name_benign",
            BENIGN,
            False,
            (
                "{name}, la tua ricetta è venuta benissimo, grazie!",
                "Che bello rivederti qui, {name}.",
                "Sono d'accordo con {name} sui parcheggi.",
                "Congratulazioni per il nuovo lavoro, {name}!",
                "{name}, puoi condividere il link allo studio?",
                "In bocca al lupo per la maratona, {name}!",
            ),
            slot="name",
        ),
        Family(
            "name_insult",
            INSULT,
            True,
            (
                "{name}, hai il cervello di una gallina.",
                "Chiudi quella bocca, {name}, a nessuno importa cosa pensi, idiota.",
                "{name} è la persona più stupida di tutto il forum.",
                "Fai pena, {name}, sei una nullità.",
            ),
            slot="name",
        ),
        Family(
            "name_threat",
            PERSONAL_THREAT,
            True,
            (
                "{name}, so dove abiti e vengo a trovarti.",
                "Occhio, {name}, o ti spacco le gambe.",
                "{name}, un'altra parola e ti ammazzo.",
                "Ti troverò, {name}, e te ne pentirai.",
            ),
            slot="name",
        ),
    ),
    "pt": (
        Family(
            "benign_identity",
            BENIGN,
            False,
            (
                "{People} fazem parte deste bairro como qualquer vizinho.",
                "No nosso time de futebol também jogam {people}, e isso é ótimo.",
                "{People} têm os mesmos direitos que qualquer cidadão.",
                "A reportagem mostra como {people} trabalham nesta cidade há décadas.",
                "Fico feliz que a exposição homenageie {people} este ano.",
                "Segundo a pesquisa, {people} votam tanto quanto o resto da população.",
            ),
        ),
        Family(
            "negated_hate",
            BENIGN,
            False,
            (
                "Não tenho nada contra {people}, muito pelo contrário.",
                "Não é verdade que {people} não querem trabalhar.",
                "Ninguém aqui acha que {people} são um perigo.",
                "{People} não têm culpa de o aluguel estar caro.",
            ),
        ),
        Family(
            "hate_dehumanising",
            DEHUMANISING,
            True,
            (
                "{People} são uma praga, nada mais.",
                "{People} não são gente, são animais.",
                "{People} são parasitas que vivem às nossas custas.",
                "{People} são lixo, e ponto final.",
                "{People} se espalham como baratas.",
                "{People} são uma doença que precisa ser eliminada.",
            ),
        ),
        Family(
            "hate_threat",
            THREAT,
            True,
            (
                "Tinha que juntar {people} e acabar com essa gente de vez.",
                "Se eu vir {people} na minha rua, vou encher de porrada.",
                "Paredão e fuzilamento para {people}, é o que eu digo.",
                "Em breve {people} vão pagar por isso, eu prometo.",
                "Vamos expulsar {people} desta cidade nem que seja na marra.",
                "{People} merecem levar bala, todos eles.",
            ),
        ),
        Family(
            "name_benign",
            BENIGN,
            False,
            (
                "{name}, sua receita deu super certo, obrigado!",
                "Que bom te ver de novo por aqui, {name}.",
                "Concordo com {name} sobre o estacionamento.",
                "Parabéns pelo emprego novo, {name}!",
                "{name}, pode compartilhar o link do estudo?",
                "Boa sorte na maratona, {name}!",
            ),
            slot="name",
        ),
        Family(
            "name_insult",
            INSULT,
            True,
            (
                "{name}, você não passa de uma anta.",
                "Cala a boca, {name}, ninguém liga para o que você pensa, imbecil.",
                "{name} é a pessoa mais burra deste fórum.",
                "Que vergonha, {name}, você é um lixo de pessoa.",
            ),
            slot="name",
        ),
        Family(
            "name_threat",
            PERSONAL_THREAT,
            True,
            (
                "{name}, eu sei onde você mora e vou aí te pegar.",
                "Toma cuidado, {name}, senão eu quebro suas pernas.",
                "{name}, mais uma palavra e eu te mato.",
                "Vou te encontrar, {name}, e você vai se arrepender.",
            ),
            slot="name",
        ),
    ),
}


def _capitalised(text: str) -> str:
    return text[0].upper() + text[1:]


def examples(half: Half, language: str | None = None) -> list[AuthoredExample]:
    """Every template of the given half, filled with every group (or name), per language."""
    out: list[AuthoredExample] = []
    for lang in LANGUAGES if language is None else (language,):
        for family in FAMILIES[lang]:
            labels = tuple(1.0 if c in family.positives else 0.0 for c in CATEGORIES)
            for template in templates_of(family, half, TRAINING_ONLY.get(lang, {})):
                fills: list[tuple[str, str]]
                if family.slot == "group":
                    fills = [
                        (template.format(people=p, People=_capitalised(p)), key)
                        for key, p in GROUPS[lang].items()
                    ]
                elif family.slot == "name":
                    fills = [(template.format(name=n), lang) for n in NAMES[lang][half]]
                else:
                    fills = [(template, "")]
                out.extend(
                    AuthoredExample(
                        _capitalised(text), family.name, template, key, labels, family.hold, lang
                    )
                    for text, key in fills
                )
    return out
