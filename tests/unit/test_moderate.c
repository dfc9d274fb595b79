/* Unit tests for moderate: evasions caught with offsets into the original
 * bytes, innocent phrases left alone, age policies, personal data, JSON, and
 * the throughput on ordinary story text. */
#include "base/base.h"
#include "moderate/internal.h"
#include "moderate/moderate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct sv_moderator *mod;

static int setup(void **state)
{
	struct sv_err err;
	mod = sv_moderate_new("en", &err);
	if (!mod)
		fprintf(stderr, "sv_moderate_new: %s\n", err.message);
	return mod ? 0 : -1;
}

static int teardown(void **state)
{
	sv_moderate_free(mod);
	return 0;
}

static struct sv_moderate_result check(const char *text, const char *age)
{
	struct sv_moderate_result r;
	struct sv_err err;
	assert_int_equal(sv_moderate_check(mod, text, strlen(text), age, &r, &err), 0);
	return r;
}

/* text is flagged for category with a match covering exactly the bytes
 * from the first occurrence of span. */
static void flagged_at(const char *text, int category, const char *span)
{
	struct sv_moderate_result r = check(text, NULL);
	if (r.allowed)
		fail_msg("not flagged: %s", text);
	assert_true(r.categories & (1u << category));
	const char *at = strstr(text, span);
	assert_non_null(at);
	size_t start = (size_t)(at - text), end = start + strlen(span);
	for (size_t i = 0; i < r.nmatches; i++)
		if (r.matches[i].start == start && r.matches[i].end == end &&
		    r.matches[i].category == category)
			return;
	fail_msg("'%s': no %s match at [%zu, %zu) (first is [%zu, %zu))", text,
	         sv_moderate_category_name(category), start, end,
	         r.nmatches ? r.matches[0].start : 0, r.nmatches ? r.matches[0].end : 0);
}

static void allowed(const char *text, const char *age)
{
	struct sv_moderate_result r = check(text, age);
	if (!r.allowed)
		fail_msg("flagged for %s at [%zu, %zu): %s",
		         sv_moderate_category_name(r.matches[0].category), r.matches[0].start,
		         r.matches[0].end, text);
}

static void plain_words_are_found(void **state)
{
	flagged_at("The giant wanted to kill the knight.", SV_MODERATE_VIOLENCE, "kill");
	flagged_at("He killed it.", SV_MODERATE_VIOLENCE, "killed");
	flagged_at("They were killing.", SV_MODERATE_VIOLENCE, "killing");
	flagged_at("what the fuck", SV_MODERATE_PROFANITY, "fuck");
	flagged_at("He pulled out a gun!", SV_MODERATE_WEAPONS, "gun");
	flagged_at("they smoked weed", SV_MODERATE_DRUGS, "weed");
	flagged_at("I want to kill myself", SV_MODERATE_SELF_HARM, "kill myself");
	flagged_at("Dad drank beer", SV_MODERATE_DRUGS, "beer");
}

static void evasions_are_caught(void **state)
{
	flagged_at("you will k1ll him", SV_MODERATE_VIOLENCE, "k1ll");
	flagged_at("ki11 them", SV_MODERATE_VIOLENCE, "ki11");
	flagged_at("$h!t happens", SV_MODERATE_PROFANITY, "$h!t");
	flagged_at("a sh1t day", SV_MODERATE_PROFANITY, "sh1t");
	flagged_at("the murd3r3r ran", SV_MODERATE_VIOLENCE, "murd3r3r");
	flagged_at("p0rn", SV_MODERATE_SEXUAL, "p0rn");
	flagged_at("a 5tabb1ng", SV_MODERATE_VIOLENCE, "5tabb1ng");
	flagged_at("@$$hole", SV_MODERATE_PROFANITY, "@$$hole");
	/* A letter masked inside a word, tried as each vowel. */
	flagged_at("you PR*CK", SV_MODERATE_PROFANITY, "PR*CK");
	flagged_at("a sh*thead", SV_MODERATE_PROFANITY, "sh*thead");
	allowed("*hugs* I *love* the b*tter", NULL);
	/* Compound insults, also at the end of a made-up name. */
	flagged_at("Mr Dickweed", SV_MODERATE_PROFANITY, "Dickweed");
	flagged_at("Captain McShithead", SV_MODERATE_PROFANITY, "Shithead");
	flagged_at("row faster, you lazy arseholes", SV_MODERATE_PROFANITY, "arseholes");
	/* Run together inside a longer word. */
	flagged_at("justkillyourselfalready", SV_MODERATE_SELF_HARM, "killyourself");
}

static void spaced_dotted_and_hidden_letters_are_joined(void **state)
{
	flagged_at("we will k i l l you", SV_MODERATE_VIOLENCE, "k i l l");
	flagged_at("k.i.l.l", SV_MODERATE_VIOLENCE, "k.i.l.l");
	flagged_at("he had a g u n", SV_MODERATE_WEAPONS, "g u n");
	flagged_at("d r u g s r fun", SV_MODERATE_DRUGS, "d r u g s");
	flagged_at("a s s", SV_MODERATE_PROFANITY, "a s s");
	flagged_at("then k-i-l-l it", SV_MODERATE_VIOLENCE, "k-i-l-l");
	flagged_at("f_u_c_k", SV_MODERATE_PROFANITY, "f_u_c_k");
	flagged_at("k\u200bill him", SV_MODERATE_VIOLENCE, "k\u200bill");
	flagged_at("sh\u200di\u200bt", SV_MODERATE_PROFANITY, "sh\u200di\u200bt");
}

static void lookalikes_diacritics_and_case_are_folded(void **state)
{
	/* Cyrillic і and о, Greek ο. */
	flagged_at("k\u0456ll", SV_MODERATE_VIOLENCE, "k\u0456ll");
	flagged_at("a g\u043ery end", SV_MODERATE_FRIGHTENING,
	           "g\u043ery"); /* gore is horror imagery */
	flagged_at("p\u03bfrn", SV_MODERATE_SEXUAL, "p\u03bfrn");
	flagged_at("s\u04bbut up d\u0456\u0441k\u04bbead", SV_MODERATE_PROFANITY,
	           "d\u0456\u0441k\u04bbead");                       /* Cyrillic \u04bb for h */
	flagged_at("\u0192uck", SV_MODERATE_PROFANITY, "\u0192uck"); /* Latin f with hook */
	flagged_at("f\u00fcck", SV_MODERATE_PROFANITY, "f\u00fcck");
	flagged_at("K\u00ccLL", SV_MODERATE_VIOLENCE, "K\u00ccLL");
	flagged_at("KiLL", SV_MODERATE_VIOLENCE, "KiLL");
	/* Full-width letters fold by NFKC. */
	flagged_at("\uff4b\uff49\uff4c\uff4c", SV_MODERATE_VIOLENCE, "\uff4b\uff49\uff4c\uff4c");
}

static void repeated_letters_are_squeezed(void **state)
{
	flagged_at("kiiiiill", SV_MODERATE_VIOLENCE, "kiiiiill");
	flagged_at("KIIILLLLL them", SV_MODERATE_VIOLENCE, "KIIILLLLL");
	flagged_at("shiiiiit", SV_MODERATE_PROFANITY, "shiiiiit");
	/* A letter doubled is another word: "as" is not "ass". */
	allowed("as good as gold, too good to be true", NULL);
	flagged_at("you asssss", SV_MODERATE_PROFANITY, "asssss");
}

static void innocent_phrases_stay_allowed(void **state)
{
	static const char *const ok[] = {
	    "We played cards to kill time.",
	    "Shoot for the stars, said Mum.",
	    "The fire truck raced down the hill.",
	    "Lily hit the ball over the fence.",
	    "The dragon breathed fire on the marshmallows.",
	    "A killer whale jumped out of the sea.",
	    "Blow out the candles and make a wish!",
	    "Grandpa lives in Scunthorpe.",
	    "She took a class in glass painting.",
	    "The cocktail sausages were yummy.",
	    "A pot of gold at the end of the rainbow.",
	    "They had a pillow fight before bed.",
	    "Mum used a butter knife to spread the jam.",
	    "The shooting star flashed by.",
	    "hello! how are you?",
	    "In 2024 we had 3 cats and 12 hens.",
	    "Count with me: 1 2 3 4 5 6 7 8 9 10!",
	    "Count in twos: 2 4 6 8 10 12 14 16",
	    "The big dates: 1066 1215 1666 1805",
	    "The seven dwarfs drive home.",
	    "He got a flu shot and was brave.",
	    "They pulled the weeds in the garden.",
	    "She put on her bow tie.",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		allowed(ok[i], NULL);
}

static void age_policies_differ(void **state)
{
	const char *peril = "The monster growled in the dark.";
	assert_false(check(peril, "3-5").allowed);
	assert_false(check(peril, NULL).allowed);
	allowed(peril, "6-8");
	allowed(peril, "9-12");
	/* A fight in a tale is mild peril from 6; blows are violence, 9-12 only. */
	const char *scuffle = "The two knights began to fight with a sword.";
	assert_false(check(scuffle, "3-5").allowed);
	allowed(scuffle, "6-8");
	const char *blows = "The two knights punched each other.";
	assert_false(check(blows, "6-8").allowed);
	allowed(blows, "9-12");
	/* Nothing sexual, hateful or profane at any age. */
	assert_false(check("what the fuck", "9-12").allowed);
	assert_false(check("he murdered them", "9-12").allowed);
	struct sv_moderate_result r;
	struct sv_err err;
	assert_int_equal(sv_moderate_check(mod, "x", 1, "13-18", &r, &err), -1);
	assert_string_equal(err.code, "invalid_value");
}

/* A swear is a swear inside a made-up word; innocent words holding its
 * letters are allowed by name. */
static void swears_inside_words(void **state)
{
	flagged_at("Captain Shitbeard, who burps", SV_MODERATE_PROFANITY, "Shit");
	flagged_at("a real dipsh1t", SV_MODERATE_PROFANITY, "sh1t");
	flagged_at("unfuckingbelievable", SV_MODERATE_PROFANITY, "fuck");
	allowed("He mishit the ball into the pond.", "6-8");
	allowed("Shiitake mushrooms in the soup, and the Cushitic languages.", "6-8");
	/* inside a word, not at its edge, the letters are someone's name */
	allowed("Kshitij and Dikshita play cricket.", "6-8");
	/* at its start, a vowel after it makes a name, not a compound */
	allowed("Shitij and Shitanshu play cricket.", "6-8");
	flagged_at("what a shitface", SV_MODERATE_PROFANITY, "shit");
	allowed("Scunthorpe, Essex and Penistone", "6-8");
}

static void personal_data_is_found(void **state)
{
	flagged_at("call me on 555-123-4567 ok", SV_MODERATE_PERSONAL_DATA, "555-123-4567");
	flagged_at("ring +44 20 7946 0958 now", SV_MODERATE_PERSONAL_DATA, "+44 20 7946 0958");
	flagged_at("(555) 123 4567", SV_MODERATE_PERSONAL_DATA, "(555) 123 4567");
	flagged_at("write to tom.smith@example.org.", SV_MODERATE_PERSONAL_DATA,
	           "tom.smith@example.org");
	flagged_at("come to 221 Baker Street at noon", SV_MODERATE_PERSONAL_DATA,
	           "221 Baker Street");
	flagged_at("we are at 12 oak lane", SV_MODERATE_PERSONAL_DATA, "12 oak lane");
	flagged_at("it is 42 Maple Drive", SV_MODERATE_PERSONAL_DATA, "42 Maple Drive");
	/* numbers told in digits and words mixed, o for zero, spaced out wide */
	flagged_at("my numbr is 0 seven 7 0 0, nine hundred, 4 6 1 ok", SV_MODERATE_PERSONAL_DATA,
	           "0 seven 7 0 0, nine hundred, 4 6 1");
	flagged_at("o seven seven double oh nine hundred four six two", SV_MODERATE_PERSONAL_DATA,
	           "o seven seven double oh nine hundred four six two");
	flagged_at("its o7 7oo 9oo 3 2 1 - swap the o's", SV_MODERATE_PERSONAL_DATA,
	           "o7 7oo 9oo 3 2 1");
	flagged_at("ph: 0 7 9 1 1 - 2 3 4 - 5 6 7", SV_MODERATE_PERSONAL_DATA,
	           "0 7 9 1 1 - 2 3 4 - 5 6 7");
	flagged_at("call nana on 5 5 5 - 0 1 6 2 anytime", SV_MODERATE_PERSONAL_DATA,
	           "5 5 5 - 0 1 6 2");
	flagged_at("call 5 5 5 0 1 6 2 now", SV_MODERATE_PERSONAL_DATA, "5 5 5 0 1 6 2");
	flagged_at("mum's card is 4111 1111 1111 1111 ok", SV_MODERATE_PERSONAL_DATA,
	           "4111 1111 1111 1111");
	flagged_at("ring 1111 1111 1111", SV_MODERATE_PERSONAL_DATA, "1111 1111 1111");
	allowed("The years 1066, 1215 and 1492 - 1603 - 1688 were busy ones.", "6-8");
	allowed("Scores: 3, 1, 0, 2, 4, 1, 3, 0, 2", "6-8");
	allowed("We counted one, two, three, four, five, six, seven, eight, nine!", "6-8");
	/* handles with an app's name before them, gaming tags, PINs */
	flagged_at("tiktok @ella.dances.2015 follow me", SV_MODERATE_PERSONAL_DATA,
	           "@ella.dances.2015");
	flagged_at("add me discord: tommy#4821", SV_MODERATE_PERSONAL_DATA, "tommy#4821");
	allowed("Write @theme.call in the template, and page #1234 too.", "6-8");
	flagged_at("mums bank pin is 4729", SV_MODERATE_PERSONAL_DATA, "bank pin");
	allowed("The rolling pin is on the table.", "6-8");
}

static void result_json_and_bounds(void **state)
{
	struct sv_moderate_result r = check("kill it", NULL);
	struct sv_buf b;
	sv_buf_init(&b);
	assert_int_equal(sv_moderate_result_json(&r, &b), 0);
	assert_string_equal(b.data,
	                    "{\"allowed\":false,\"categories\":[\"violence\"],\"severity\":2,"
	                    "\"matches\":[{\"start\":0,\"end\":4,\"category\":\"violence\","
	                    "\"severity\":2}]}");
	sv_buf_free(&b);
	/* More matches than fit, and odd bytes: bounded, never a crash. */
	struct sv_buf many;
	sv_buf_init(&many);
	for (int i = 0; i < 100; i++)
		sv_buf_puts(&many, "kill \xff\xfe ");
	struct sv_err err;
	assert_int_equal(sv_moderate_check(mod, many.data, many.len, NULL, &r, &err), 0);
	assert_int_equal(r.nmatches, SV_MODERATE_MAX_MATCHES);
	assert_true(r.truncated);
	sv_buf_free(&many);
	assert_int_equal(sv_moderate_check(mod, "", 0, NULL, &r, &err), 0);
	assert_true(r.allowed);
	assert_null(sv_moderate_new("xx", &err));
}

/* A word listed twice, here as a term and as a verb's form, would be matched
 * twice with only the stricter entry counting: the lexicon is refused. */
static void a_word_listed_twice_is_refused(void **state)
{
	const char *lexicon =
	    "{\"terms\":[{\"term\":\"murders\",\"category\":\"violence\",\"severity\":2,"
	    "\"context\":true}],\"allow\":[],\"ages\":{\"3-5\":{},\"6-8\":{},\"9-12\":{}},"
	    "\"verbs\":[{\"category\":\"violence\",\"severity\":3,\"words\":[\"murder\"]}]}";
	json_t *root = json_loads(lexicon, 0, NULL);
	struct sv_err err = {0};
	assert_null(sv_moderate_from_json(root, "test", &err));
	assert_string_equal(err.code, "invalid_json");
	assert_non_null(strstr(err.message, "'murders' is listed twice"));
	/* Without the verb, it loads and finds the word. */
	json_object_del(root, "verbs");
	struct sv_moderator *m = sv_moderate_from_json(root, "test", &err);
	assert_non_null(m);
	struct sv_moderate_result r;
	assert_int_equal(sv_moderate_check(m, "she murders socks", 17, NULL, &r, &err), 0);
	assert_false(r.allowed);
	sv_moderate_free(m);
	json_decref(root);
}

/* A context word ("stabbed", "slaughtered", "killed") is weighed by the
 * model from 6: innocent in plainly safe text, counted for the youngest and
 * where a person is what is killed. */
static void context_words_are_weighed_by_the_model(void **state)
{
	static const char *const innocent[] = {
	    "The heron stabbed its beak into the water and came up with a fish.",
	    "Our team got slaughtered nine to one but we had pizza after.",
	    "Level four of my game killed me again and again lol",
	    "he murders every song he sings in the car",
	};
	for (size_t i = 0; i < sizeof innocent / sizeof innocent[0]; i++) {
		allowed(innocent[i], "6-8");
		if (check(innocent[i], "3-5").allowed)
			fail_msg("allowed at 3-5: %s", innocent[i]);
	}
	struct sv_moderate_result r = check("The giant wanted to kill the knight.", "6-8");
	assert_false(r.allowed);
	assert_true(r.categories & (1u << SV_MODERATE_VIOLENCE));
	assert_false(check("the old dog was beaten to death", "9-12").allowed);
	assert_true(check("we were bored to death in the car", "6-8").allowed);
	assert_true(check("Grandad says his feet are killing him", "6-8").allowed);
	assert_false(check("mix the rat poison into her juice", "6-8").allowed);
	r = check("write a story where the boy kills himself", "9-12");
	assert_false(r.allowed);
	assert_true(r.categories & (1u << SV_MODERATE_SELF_HARM));
}

/* Ordinary story text, checked line by line as the CLI and API do. */
static void throughput(void **state)
{
	static const char *const lines[] = {
	    "Once upon a time, in a village by the sea, there lived a girl called Mirela.",
	    "Every morning she walked to the harbour to watch the fishing boats come home.",
	    "One day a small blue whale swam into the bay and sang a song she had never heard.",
	    "\"Who are you?\" she asked, and the whale answered with a splash of silver water.",
	    "They became friends, and together they explored caves, reefs and sunken ships.",
	    "When winter came, the whale had to leave, but it promised to return in spring.",
	};
	struct sv_buf text;
	sv_buf_init(&text);
	while (text.len < (4u << 20))
		for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
			sv_buf_printf(&text, "%s\n", lines[i]);
	int64_t t0 = sv_time_mono_ns();
	size_t flagged = 0;
	const char *p = text.data, *end = text.data + text.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct sv_moderate_result r;
		struct sv_err err;
		assert_int_equal(sv_moderate_check(mod, p, (size_t)(nl - p), "6-8", &r, &err), 0);
		flagged += !r.allowed;
		p = nl + 1;
	}
	double s = (double)(sv_time_mono_ns() - t0) / 1e9;
	double mbs = (double)text.len / 1e6 / s;
	printf("moderate throughput: %.1f MB/s on %zu bytes (%zu lines flagged)\n", mbs, text.len,
	       flagged);
	assert_int_equal(flagged, 0);
	assert_true(mbs > 1.0); /* the target is 20 MB/s unsanitised; this only catches disasters */
	sv_buf_free(&text);
}

/* ---- the learned model ---- */

static struct sv_model *model_from(const struct sv_moderate_example *ex, size_t n)
{
	struct sv_moderate_train_options o = {.epochs = 30,
	                                      .rate = 0.3,
	                                      .l2 = 1e-4,
	                                      .threshold = 0.5,
	                                      .min_count = 1,
	                                      .prune = 0,
	                                      .seed = 7};
	struct sv_buf json;
	sv_buf_init(&json);
	struct sv_err err = {0};
	assert_int_equal(sv_moderate_train(ex, n, &o, &json, &err), 0);
	/* The same examples and seed give the same model, byte for byte. */
	struct sv_buf again;
	sv_buf_init(&again);
	assert_int_equal(sv_moderate_train(ex, n, &o, &again, &err), 0);
	assert_int_equal(json.len, again.len);
	assert_memory_equal(json.data, again.data, json.len);
	json_t *root = json_loadb(json.data, json.len, 0, NULL);
	assert_non_null(root);
	struct sv_model *m = sv_moderate_model_load(root, &err);
	assert_non_null(m);
	json_decref(root);
	sv_buf_free(&json);
	sv_buf_free(&again);
	return m;
}

#define EX(text, cat)                                                                              \
	{                                                                                          \
		text, sizeof(text) - 1, cat                                                        \
	}

static const struct sv_moderate_example lessons[] = {
    EX("the fox shared the honey cake with the rabbit", -1),
    EX("the children sang songs under the apple tree", -1),
    EX("grandma baked bread and everyone said thank you", -1),
    EX("the rabbit found a red kite in the garden", -1),
    EX("he held the puppy under the cold water until it went still", SV_MODERATE_VIOLENCE),
    EX("she held the kitten under the water until it went still", SV_MODERATE_VIOLENCE),
    EX("they poured the bottle of vodka for the little boy", SV_MODERATE_DRUGS),
    EX("the man poured vodka into the girl's cup", SV_MODERATE_DRUGS),
};

/* Verdict of m on text: 1 flagged (with *v), 0 not. */
static int verdict(const struct sv_model *m, const char *text, struct sv_model_verdict *v)
{
	struct sv_norm n;
	sv_moderate_norm_init(&n);
	assert_int_equal(sv_moderate_normalise(text, strlen(text), false, &n), 0);
	int rc = sv_moderate_model_flag(m, &n, 0, v);
	assert_true(rc >= 0);
	if (rc == 1) { /* the span it names is a feature of the text */
		assert_true(v->start < v->end && v->end <= n.len);
	}
	sv_moderate_norm_free(&n);
	return rc;
}

static void a_trained_model_reads_what_it_learnt(void **state)
{
	struct sv_model *m = model_from(lessons, sizeof lessons / sizeof lessons[0]);
	struct sv_model_verdict v;
	/* New sentences made of what it learnt, evasions folded first. */
	assert_int_equal(verdict(m, "Tom held the hamster under the w@ter until it went still", &v),
	                 1);
	assert_int_equal(v.category, SV_MODERATE_VIOLENCE);
	assert_int_equal(verdict(m, "The stranger poured VODKA for the boy", &v), 1);
	assert_int_equal(v.category, SV_MODERATE_DRUGS);
	assert_int_equal(verdict(m, "the rabbit and the fox baked a honey cake", &v), 0);
	assert_int_equal(verdict(m, "", &v), 0);
	sv_moderate_model_free(m);
	/* A model file that is not one is refused, naming what is wrong. */
	struct sv_err err = {0};
	json_t *bad = json_pack("{s:[s,s],s:f,s:[f],s:{}}", "classes", "safe", "violence",
	                        "threshold", 0.5, "bias", 0.0, "features");
	assert_null(sv_moderate_model_load(bad, &err));
	assert_string_equal(err.code, "invalid_json");
	json_decref(bad);
	bad = json_pack("{s:[s,s],s:f,s:[f,f],s:{s:[f]}}", "classes", "safe", "violence",
	                "threshold", 0.5, "bias", 0.0, 0.0, "features", "fox", 1.0);
	assert_null(sv_moderate_model_load(bad, &err));
	json_decref(bad);
}

/* A long page of gentle words does not add up to a fright, and one bad
 * sentence inside it is not buried. */
static void the_model_reads_a_page_in_windows(void **state)
{
	struct sv_model *m = model_from(lessons, sizeof lessons / sizeof lessons[0]);
	struct sv_buf page;
	sv_buf_init(&page);
	for (int i = 0; i < 12; i++)
		sv_buf_puts(&page, "The children sang songs under the apple tree. ");
	struct sv_model_verdict v;
	assert_int_equal(verdict(m, page.data, &v), 0);
	/* Words it never met, around one sentence it knows for harm. */
	page.len = 0;
	for (int i = 0; i < 12; i++)
		sv_buf_puts(&page, "Blue boats drifted past quiet meadows. ");
	sv_buf_puts(&page, "Then he held the puppy under the water until it went still. ");
	for (int i = 0; i < 12; i++)
		sv_buf_puts(&page, "Blue boats drifted past quiet meadows. ");
	assert_int_equal(verdict(m, page.data, &v), 1);
	assert_int_equal(v.category, SV_MODERATE_VIOLENCE);
	sv_buf_free(&page);
	sv_moderate_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_words_are_found),
	    cmocka_unit_test(a_word_listed_twice_is_refused),
	    cmocka_unit_test(context_words_are_weighed_by_the_model),
	    cmocka_unit_test(evasions_are_caught),
	    cmocka_unit_test(spaced_dotted_and_hidden_letters_are_joined),
	    cmocka_unit_test(lookalikes_diacritics_and_case_are_folded),
	    cmocka_unit_test(repeated_letters_are_squeezed),
	    cmocka_unit_test(innocent_phrases_stay_allowed),
	    cmocka_unit_test(age_policies_differ),
	    cmocka_unit_test(personal_data_is_found),
	    cmocka_unit_test(swears_inside_words),
	    cmocka_unit_test(result_json_and_bounds),
	    cmocka_unit_test(a_trained_model_reads_what_it_learnt),
	    cmocka_unit_test(the_model_reads_a_page_in_windows),
	    cmocka_unit_test(throughput),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
